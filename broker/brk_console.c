/*
 * brk_console.c - serves the web console's embedded files (brk_console.h).
 * The files are static bytes in the binary, so they are answered on the
 * event-loop thread without a worker.
 */
#include "broker/brk_console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk_api.h"
#include "broker/brk_http.h"
#include "common/crypto.h"
#include "common/err.h"
#include "store/store.h"

#define INDEX "index.html"
/* 128 random bits, base64url. */
#define NONCE_BYTES 16
#define NONCE_LEN 22

int brk_console_path(const char *path)
{
	return strcmp(path, "/") == 0 ||
	    strncmp(path, BRK_CONSOLE_ASSETS, strlen(BRK_CONSOLE_ASSETS)) == 0 ||
	    strncmp(path, BRK_CONSOLE_APPROVE, strlen(BRK_CONSOLE_APPROVE)) == 0;
}

int brk_console_approval(const char *path, char *id)
{
	const char *p = path + strlen(BRK_CONSOLE_APPROVE);

	if (strncmp(path, BRK_CONSOLE_APPROVE, strlen(BRK_CONSOLE_APPROVE)) != 0 ||
	    strspn(p, "0123456789abcdef") != STORE_APPROVAL_ID_LEN ||
	    p[STORE_APPROVAL_ID_LEN] != '\0') {
		return ZT_ERR_NOT_FOUND;
	}
	memcpy(id, p, STORE_APPROVAL_ID_LEN + 1);
	return 0;
}

const struct brk_console_asset *brk_console_find(const char *path)
{
	const char *name;

	if (strcmp(path, "/") == 0) {
		name = INDEX;
	} else if (strncmp(path, BRK_CONSOLE_ASSETS, strlen(BRK_CONSOLE_ASSETS)) == 0 &&
	    strcmp(path + strlen(BRK_CONSOLE_ASSETS), INDEX) != 0) {
		name = path + strlen(BRK_CONSOLE_ASSETS);
	} else {
		return NULL;
	}
	/* An exact name from the table: no path is ever built from the URL. */
	for (const struct brk_console_asset *a = brk_console_assets; a->name != NULL; a++) {
		if (strcmp(a->name, name) == 0) {
			return a;
		}
	}
	return NULL;
}

/* The page a with nonce in place of its mark: a response, or NULL (out of
 * memory, or a page without the mark: a build error the tests catch). */
static struct MHD_Response *page_with_nonce(const struct brk_console_asset *a,
    const char *nonce)
{
	size_t mark = strlen(BRK_CONSOLE_NONCE_MARK), at;
	const unsigned char *p = memmem(a->data, a->len, BRK_CONSOLE_NONCE_MARK, mark);
	char *out;

	if (p == NULL || (out = malloc(a->len - mark + NONCE_LEN)) == NULL) {
		return NULL;
	}
	at = (size_t)(p - a->data);
	memcpy(out, a->data, at);
	memcpy(out + at, nonce, NONCE_LEN);
	memcpy(out + at + NONCE_LEN, p + mark, a->len - at - mark);
	return MHD_create_response_from_buffer(a->len - mark + NONCE_LEN, out,
	    MHD_RESPMEM_MUST_FREE);
}

static void console_headers(struct MHD_Response *r, const char *csp)
{
	struct brk_resp none;

	memset(&none, 0, sizeof(none));
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	brk_http_common_headers(r, &none);
}

/* The redirect of a held call's old page to its console route: a short
 * text body, Location relative to the broker's own origin. */
static struct MHD_Response *approval_redirect(const char *id)
{
	static const char text[] = "this held call is answered in the console\n";
	char where[sizeof(BRK_CONSOLE_APPROVAL_ROUTE) + STORE_APPROVAL_ID_LEN];
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);

	if (r != NULL) {
		snprintf(where, sizeof(where), "%s%s", BRK_CONSOLE_APPROVAL_ROUTE, id);
		MHD_add_response_header(r, "Location", where);
	}
	return r;
}

enum MHD_Result brk_console_serve(struct MHD_Connection *c, const char *method,
    const char *path)
{
	static const char not_found[] = "not found\n", not_allowed[] = "method not allowed\n";
	const struct brk_console_asset *a = brk_console_find(path);
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	char csp[sizeof(BRK_CONSOLE_PAGE_CSP) + NONCE_LEN], nonce[NONCE_LEN + 1];
	char id[STORE_APPROVAL_ID_LEN + 1];
	uint8_t raw[NONCE_BYTES];
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned status;

	snprintf(csp, sizeof(csp), "%s", BRK_CONSOLE_CSP);
	if (get && brk_console_approval(path, id) == 0) {
		r = approval_redirect(id);
		status = MHD_HTTP_SEE_OTHER;
	} else if (get && a != NULL && strcmp(a->name, INDEX) == 0) {
		if (crypto_random(raw, sizeof(raw)) != 0 ||
		    crypto_b64url(raw, sizeof(raw), nonce, sizeof(nonce)) != 0 ||
		    strlen(nonce) != NONCE_LEN) {
			return MHD_NO;
		}
		snprintf(csp, sizeof(csp), BRK_CONSOLE_PAGE_CSP, nonce);
		r = page_with_nonce(a, nonce);
		status = MHD_HTTP_OK;
	} else if (get && a != NULL) {
		r = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_OK;
	} else {
		const char *text = get ? not_found : not_allowed;

		r = MHD_create_response_from_buffer(strlen(text), (void *)text,
		    MHD_RESPMEM_PERSISTENT);
		status = get ? MHD_HTTP_NOT_FOUND : MHD_HTTP_METHOD_NOT_ALLOWED;
	}
	if (r == NULL) {
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", a != NULL && status == MHD_HTTP_OK ?
	    a->type : "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	}
	console_headers(r, csp);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}
