/*
 * brk_xferhttp.h - the HTTPS side of the transfer links (brk_xfer.h):
 * what the access handler (brk_http.c) hands every request under
 * BRK_XFER_PATH, as it hands /mcp to brk_mcphttp.h.
 */
#ifndef ZT_BRK_XFERHTTP_H
#define ZT_BRK_XFERHTTP_H

#include <stddef.h>
#include <microhttpd.h>

struct brk;

/* Each call of libmicrohttpd's access handler for one request; *cls is
 * this module's state of it (NULL at the first call). */
enum MHD_Result brk_xferhttp_request(struct brk *b, struct MHD_Connection *c, const char *url,
    const char *method, const char *upload_data, size_t *upload_size, void **cls);
/* The request ended (its MHD_OPTION_NOTIFY_COMPLETED): a transfer it
 * still feeds or drains is stopped; *cls is freed. */
void brk_xferhttp_completed(void **cls);

#endif
