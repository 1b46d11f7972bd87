/*
 * err.c - names for the ZT_ERR_* codes.
 */
#include "common/err.h"

const char *zt_strerror(int err)
{
	switch (err) {
	case ZT_OK: return "success";
	case ZT_ERR_INTERNAL: return "internal error";
	case ZT_ERR_NOMEM: return "out of memory";
	case ZT_ERR_INVALID: return "invalid input";
	case ZT_ERR_TOO_LARGE: return "size limit exceeded";
	case ZT_ERR_TRUNCATED: return "input truncated";
	case ZT_ERR_NOT_FOUND: return "not found";
	case ZT_ERR_EXISTS: return "already exists";
	case ZT_ERR_IO: return "I/O error";
	case ZT_ERR_CRYPTO: return "cryptographic error";
	case ZT_ERR_DB: return "database error";
	case ZT_ERR_AUTH: return "authentication failed";
	case ZT_ERR_EXPIRED: return "expired";
	case ZT_ERR_REPLAY: return "already used";
	case ZT_ERR_LOCKED: return "account locked";
	case ZT_ERR_RATE_LIMITED: return "too many attempts, try again later";
	case ZT_ERR_TLS: return "TLS error";
	case ZT_ERR_PIN: return "server CA does not match the pinned CA";
	case ZT_ERR_NET: return "network error";
	case ZT_ERR_TYPE: return "wrong type";
	case ZT_ERR_PROTOCOL: return "protocol error";
	case ZT_ERR_DENIED: return "denied by policy";
	case ZT_ERR_TAMPERED: return "integrity check failed";
	case ZT_ERR_EMBEDDED_NUL: return "string contains a NUL byte";
	case ZT_ERR_TRAILING: return "unexpected trailing data";
	case ZT_ERR_TIMEOUT: return "timed out";
	case ZT_ERR_REVOKED: return "revoked";
	case ZT_ERR_CANCELLED: return "cancelled";
	case ZT_ERR_OFFLINE: return "offline";
	case ZT_ERR_BUSY: return "busy, try again later";
	case ZT_ERR_STOPPED: return "no longer needed";
	case ZT_ERR_MISMATCH: return "bound to another request";
	}
	return "unknown error";
}
