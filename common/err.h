/*
 * err.h - the one list of error codes used by every zt module.
 *
 * Functions return 0 on success or one of the negative ZT_ERR_* codes below;
 * zt_strerror() names a code for logs and user-facing messages. Library code
 * never exits on bad input: only a program's main() decides to die.
 */
#ifndef ZT_ERR_H
#define ZT_ERR_H

enum zt_err {
	ZT_OK = 0,
	ZT_ERR_INTERNAL = -1,      /* a bug or an impossible state */
	ZT_ERR_NOMEM = -2,         /* allocation failed */
	ZT_ERR_INVALID = -3,       /* malformed input or bad argument */
	ZT_ERR_TOO_LARGE = -4,     /* a named size limit was exceeded */
	ZT_ERR_TRUNCATED = -5,     /* input ended before the value did */
	ZT_ERR_NOT_FOUND = -6,     /* no such user, token, key, file, field */
	ZT_ERR_EXISTS = -7,        /* already exists */
	ZT_ERR_IO = -8,            /* file or socket I/O failed */
	ZT_ERR_CRYPTO = -9,        /* OpenSSL reported an error */
	ZT_ERR_DB = -10,           /* SQLite reported an error */
	ZT_ERR_AUTH = -11,         /* wrong password, code or signature */
	ZT_ERR_EXPIRED = -12,      /* token, invite or certificate expired */
	ZT_ERR_REPLAY = -13,       /* one-time value presented twice */
	ZT_ERR_LOCKED = -14,       /* account locked by an administrator */
	ZT_ERR_RATE_LIMITED = -15, /* too many failures; retry later */
	ZT_ERR_TLS = -16,          /* TLS handshake or record error */
	ZT_ERR_PIN = -17,          /* peer's CA does not match the pin */
	ZT_ERR_NET = -18,          /* connect, resolve or network error */
	ZT_ERR_TYPE = -19,         /* a value has the wrong type */
	ZT_ERR_PROTOCOL = -20,     /* peer broke the protocol */
	ZT_ERR_DENIED = -21,       /* policy denies the request */
	ZT_ERR_TAMPERED = -22,     /* integrity check failed */
	ZT_ERR_EMBEDDED_NUL = -23, /* string holds a NUL byte */
	ZT_ERR_TRAILING = -24,     /* bytes left after the last value */
	ZT_ERR_TIMEOUT = -25,      /* deadline passed */
	ZT_ERR_REVOKED = -26,      /* token was revoked (logout, lock) */
	ZT_ERR_CANCELLED = -27,    /* the caller cancelled the operation */
	ZT_ERR_OFFLINE = -28,      /* the peer (an agent) is not connected */
	ZT_ERR_BUSY = -29,         /* a bound of all together reached; retry later */
	ZT_ERR_STOPPED = -30,      /* no longer needed: settled another way */
	ZT_ERR_MISMATCH = -31,     /* authentic, but bound to another request */
};

/* A static, human-readable name for an error code; never NULL. */
const char *zt_strerror(int err);

#endif
