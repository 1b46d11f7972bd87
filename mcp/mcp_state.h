/*
 * mcp_state.h - sealed request state: what MCP 2026-07-28's input_required
 * round trip hands to the client and gets back.
 *
 * A tool call (or prompt, or resource read) that needs more input answers
 * {"resultType":"input_required","inputRequests":{...},"requestState":S};
 * the client retries the same request with inputResponses and S verbatim.
 * S comes back from outside, so the server trusts none of it: S is the
 * state's JSON payload and an HMAC-SHA256 over it under a key only the
 * server holds, and opening S checks, in this order, that
 *   - the MAC matches (in constant time, before any byte of the payload is
 *     parsed): else ZT_ERR_INVALID, "forged or malformed";
 *   - it was issued to the same identity (kind and name; not source nor
 *     credential, so a state survives a new token or address but never
 *     moves to another user or bot): else ZT_ERR_DENIED;
 *   - it was issued for the same request (mcp_state_request_hash: method,
 *     name and arguments): else ZT_ERR_MISMATCH;
 *   - it has not expired: else ZT_ERR_EXPIRED.
 *
 * The payload is signed, not encrypted: the client can read all of it.
 * data must hold no secret (no password, token, key, or anything the
 * caller may not see), only the bookkeeping of the round trip. A state is
 * not one-time: within its lifetime the same identity may present it again
 * with the same request (a retry after a lost answer does); a handler that
 * must act once keeps its own record. Callers with the same kind and name
 * are one identity here: where anonymous callers all share theirs, a state
 * issued to one of them opens for any other.
 *
 * Text form (URL-safe, no padding, one '.'):
 *   b64url(payload) "." b64url(HMAC-SHA256(key, "zt-mcp-state-v1" 0x00 payload))
 *   payload = {"v":1,"exp":<unix s>,"who":<hex SHA-256 of kind 0x00 name>,
 *              "req":<request hash>,"data":<data>}
 *
 * The key is MCP_STATE_KEY_LEN random bytes the server keeps (and wipes);
 * with a key made at start-up, states die with the process, and the
 * client starts the request again. Thread-safe: no state is kept here.
 */
#ifndef ZT_MCP_STATE_H
#define ZT_MCP_STATE_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "mcp/mcp.h"

#define MCP_STATE_KEY_LEN 32
/* Bytes of a sealed state's text, the most either side handles. The state
 * rides in every retry of its request, and it carries the bookkeeping of a
 * round trip (which questions were asked, a step), not content: 16 KiB
 * (about 12 KiB of payload JSON) is ample for that, and bounds what any
 * client can make the server decode and MAC per request. A longer text is
 * refused before anything is decoded: no state that long was ever issued. */
#define MCP_STATE_MAX 16384
/* Nesting of the sealed data (the payload object adds one level): enough
 * for bookkeeping, and a bound on the parser's recursion. */
#define MCP_STATE_DEPTH 16
/* The longest lifetime a state may be sealed for: a person answering the
 * input requests takes minutes, not days. */
#define MCP_STATE_TTL_MAX (24 * 60 * 60)

/* The SHA-256 (hex) of a request as a state is bound to it: a fixed label,
 * the method, the name (tool or prompt name, or resource uri; NULL == "")
 * length-prefixed, and the arguments in json_canonical's encoding (NULL ==
 * {}; key order does not matter). 0, ZT_ERR_INVALID (method or out NULL),
 * ZT_ERR_TOO_LARGE (arguments nested deeper than MCP_JSON_DEPTH) or
 * ZT_ERR_NOMEM; out is "" on error. */
int mcp_state_request_hash(const char *method, const char *name, const cJSON *args,
    char out[65]);

/* Seals data (any JSON value; copied, not taken) for who's request
 * req_hash (mcp_state_request_hash), valid from now (unix seconds) until,
 * not including, now + ttl_s. On 0, *out is the state's text (owned,
 * NUL-terminated, at most MCP_STATE_MAX bytes). Else *out is NULL and:
 * ZT_ERR_INVALID (a NULL argument; req_hash not 64 lower-case hex; ttl_s
 * outside 1..MCP_STATE_TTL_MAX; now negative, or now + ttl_s past
 * 10^15 - 1; kind or name not terminated; data with a repeated key, or a
 * number that would not come back to the last bit: NaN, infinity, and
 * those cJSON prints with 15 digits that read back as a neighbour, as
 * 2^53 - 1 or 0.1 + 0.2, while integers of up to 15 digits are safe),
 * ZT_ERR_TOO_LARGE (the text would pass MCP_STATE_MAX, or data nests
 * deeper than MCP_STATE_DEPTH), ZT_ERR_NOMEM or ZT_ERR_CRYPTO. Whatever it
 * seals, mcp_state_open() opens, to exactly the data it was given. */
int mcp_state_seal(const uint8_t key[MCP_STATE_KEY_LEN], const struct mcp_identity *who,
    const char *req_hash, int64_t now, int ttl_s, const cJSON *data, char **out);

/* Opens text, a state from a client, for who's request req_hash at time
 * now. 0 with *data the sealed data (owned; cJSON_Delete); else *data is
 * NULL and: ZT_ERR_INVALID (malformed, over MCP_STATE_MAX, or forged: the
 * MAC does not match), ZT_ERR_DENIED (authentic, issued to another
 * identity), ZT_ERR_MISMATCH (authentic, this identity, another request),
 * ZT_ERR_EXPIRED (authentic, this identity and request, too late),
 * ZT_ERR_NOMEM or ZT_ERR_CRYPTO. */
int mcp_state_open(const uint8_t key[MCP_STATE_KEY_LEN], const struct mcp_identity *who,
    const char *req_hash, int64_t now, const char *text, cJSON **data);

/* A short, fixed reason for what mcp_state_open() returned, for audit:
 * "forged or malformed", "issued to another identity", "issued for another
 * request", "expired"; zt_strerror()'s name for any other code. Never
 * NULL. */
const char *mcp_state_why(int err);

#endif
