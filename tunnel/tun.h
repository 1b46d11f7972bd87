/*
 * tun.h - the agent tunnel's wire protocol: frames and control messages.
 *
 * Pure code over bytes (no sockets), shared by the broker and ztagent.
 *
 * Framing. Every control message is one frame: a 4-byte big-endian length
 * n, then n bytes of JSON (an object), 1 <= n <= TUN_FRAME_MAX. A length of
 * 0 is a protocol error (ZT_ERR_PROTOCOL), one over TUN_FRAME_MAX is
 * ZT_ERR_TOO_LARGE; either poisons the reader for good, since the stream
 * can no longer be resynchronised: the caller closes the connection and
 * logs the reason. A reader never holds more than one frame (TUN_FRAME_MAX
 * bytes plus a few), however the bytes arrive.
 *
 * Messages. The JSON object carries "type" and the fields of that type,
 * nothing else (an unknown key is refused). Every field is required unless
 * marked optional. Strings are non-empty.
 *
 *   join      agent -> broker, first connection (TLS, server-authenticated
 *             by the CA pin; no client certificate yet)
 *     token         "ztj_" then 1..TUN_TOKEN_MAX-4 of [A-Za-z0-9_-]
 *     csr           PEM "CERTIFICATE REQUEST", at most CA_CSR_MAX bytes
 *     name          the host's name, as store_name_valid()
 *     labels        optional object of at most TUN_LABELS_MAX string pairs;
 *                   keys and values 1..TUN_LABEL_MAX of [A-Za-z0-9._-],
 *                   keys unique
 *     resources     an array of 1..TUN_RESOURCES_MAX objects, the only
 *                   places the agent dials, names unique in the list:
 *       name          as the agent's name
 *       kind          "ssh" or "rdp"
 *       address       "host:port" the agent dials for it: host a DNS name
 *                     or IPv4 ([A-Za-z0-9.-]) or "[IPv6]", port 1..65535
 *       host_key      ssh only (required): "ssh-ed25519 <base64>" whose
 *                     blob is a well-formed Ed25519 public key (no comment)
 *       cert_pin      rdp only (required): "sha256:" and 64 lower-case hex
 *                     digits, the SHA-256 of the server's certificate
 *       labels        optional, as the agent's labels but at most
 *                     TUN_RESOURCE_LABELS_MAX pairs
 *   join_ok   broker -> agent: the agent's certificate and the CA
 *     cert          PEM "CERTIFICATE", at most TUN_PEM_MAX bytes
 *     ca            PEM "CERTIFICATE", at most TUN_PEM_MAX bytes
 *   hello     agent -> broker, first frame of each control connection
 *             (mTLS with the agent certificate)
 *     name, labels (optional), resources  as in join
 *     version       the agent's version, 1..TUN_VERSION_MAX of
 *                   [A-Za-z0-9._+-]
 *   renew     agent -> broker, first frame of a connection with mutual TLS
 *             (the agent certificate still valid): a new certificate for
 *             the same key, answered with join_ok or error
 *     csr           as in join; its key must be the certificate's
 *   heartbeat either way on the control connection
 *     seq           integer 0..TUN_SEQ_MAX (10^15 - 1: cJSON prints
 *                   integers exactly up to there)
 *   dial      broker -> agent on the control connection: open a stream
 *     id            1..TUN_ID_MAX of [A-Za-z0-9_-]
 *     resource      the name of one of the resources the agent advertised
 *   accept    agent -> broker, first frame of a new stream connection
 *     id            as in dial
 *   error     either way, before closing
 *     code          1..TUN_CODE_MAX of [a-z0-9_.], e.g. "token_expired"
 *     message       1..TUN_MESSAGE_MAX bytes, no control characters
 *     id            optional, as in dial: the first frame of a stream
 *                   connection that answers dial id with a failure
 *                   (e.g. "dial_failed": the target refused) instead
 *                   of accept; on the control connection, the answer to
 *                   a dial the agent will not start ("busy", or
 *                   "unknown_resource": it advertises no such resource)
 *
 * Decoding errors: ZT_ERR_INVALID / ZT_ERR_TOO_LARGE / ZT_ERR_TRAILING from
 * json_parse (not JSON, too deep, ...); ZT_ERR_TYPE (not an object, or a
 * field of the wrong JSON type); ZT_ERR_NOT_FOUND (a required field or
 * "type" missing); ZT_ERR_PROTOCOL (unknown "type"); ZT_ERR_INVALID (an
 * unknown key, or a field that breaks its syntax); ZT_ERR_TOO_LARGE (a
 * field over its length, or too many labels). msg->why then says which
 * field and what, for the log.
 *
 * Thread-safety: a reader or a message belongs to one thread at a time.
 */
#ifndef ZT_TUN_H
#define ZT_TUN_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/ca.h"

struct buf;

#define TUN_FRAME_MAX 65536      /* bytes of one frame's JSON */
#define TUN_HDR_LEN 4            /* the big-endian length before it */
#define TUN_JSON_DEPTH 4         /* nesting of a message (a resource's labels: 4) */
#define TUN_TOKEN_MAX 79         /* a join token, "ztj_..." */
#define TUN_CSR_MAX CA_CSR_MAX
#define TUN_PEM_MAX 16384        /* cert and ca in join_ok */
#define TUN_NAME_MAX 64          /* as STORE_NAME_MAX */
#define TUN_LABELS_MAX 32        /* label pairs */
#define TUN_LABEL_MAX 63         /* bytes of a label key or value */
#define TUN_TARGET_MAX 261       /* "[" 253 "]:" 65535 */
#define TUN_HOSTKEY_MAX 128      /* "ssh-ed25519 " + 68 base64 chars */
#define TUN_RESOURCES_MAX 16     /* resources of one agent */
/* A resource's own labels. Fewer than an agent's: a hello with 16 resources
 * full of labels must stay well inside TUN_FRAME_MAX. */
#define TUN_RESOURCE_LABELS_MAX 8
#define TUN_KIND_MAX 3           /* "ssh", "rdp" */
#define TUN_CERT_PIN_MAX 71      /* "sha256:" + 64 hex digits */
#define TUN_VERSION_MAX 32
#define TUN_ID_MAX 64
#define TUN_CODE_MAX 32
#define TUN_MESSAGE_MAX 1024
#define TUN_WHY_MAX 128
#define TUN_SEQ_MAX INT64_C(999999999999999)

/* ---- frames ---- */

struct tun_reader;

/* A new reader at a frame boundary; 0 or ZT_ERR_NOMEM. */
int tun_reader_new(struct tun_reader **out);
/* Wipes (frames may hold join tokens) and frees; NULL is a no-op. */
void tun_reader_free(struct tun_reader *r);
/*
 * Feeds bytes p[0..n), split anywhere. Consumes bytes up to the end of the
 * first frame that completes and sets *used to how many it took. Returns
 * 1 when a frame is complete (tun_reader_frame() shows it until the next
 * feed, which drops it first), 0 when all n bytes were taken and no frame
 * is complete yet, or a negative error: ZT_ERR_PROTOCOL (length 0),
 * ZT_ERR_TOO_LARGE (length > TUN_FRAME_MAX), ZT_ERR_NOMEM. After an error
 * the reader is poisoned: every later feed returns the same error and
 * consumes nothing. The caller loops while bytes remain.
 */
int tun_reader_feed(struct tun_reader *r, const void *p, size_t n, size_t *used);
/* The complete frame's JSON (borrowed; valid until the next feed or free):
 * 0, or ZT_ERR_NOT_FOUND when no frame is complete. */
int tun_reader_frame(const struct tun_reader *r, const uint8_t **p, size_t *n);
/* For end of stream: 0 at a frame boundary, ZT_ERR_TRUNCATED in the middle
 * of a frame, or the poisoning error. */
int tun_reader_eof(const struct tun_reader *r);

/*
 * A message stream over any transport: a reader plus the bytes read past
 * the last frame. tun_recv() returns the next message, reading through
 * readfn (count, 0 at end of stream, or a negative ZT_ERR_*) as needed:
 * 0 with *m decoded (clear it with tun_msg_clear), ZT_ERR_TRUNCATED at end
 * of stream, a reader error, or readfn's error.
 */
struct tun_msg;
struct tun_stream {
	struct tun_reader *rd;
	uint8_t chunk[4096];
	size_t len, off;
};
int tun_stream_init(struct tun_stream *s);
void tun_stream_clear(struct tun_stream *s);
int tun_recv(struct tun_stream *s, long (*readfn)(void *arg, void *p, size_t n), void *arg,
    struct tun_msg *m);
/* The bytes read past the last message returned (at most sizeof(chunk)):
 * the count, *p pointing at them. Non-zero means tun_recv() can make
 * progress without reading; after accept they are the stream's first
 * bytes. */
size_t tun_stream_rest(const struct tun_stream *s, const uint8_t **p);
/* Parses "k=v,k2=v2" (s is modified in place) and appends the pairs to
 * labels[*n..max), advancing *n: keys and values 1..TUN_LABEL_MAX bytes.
 * 0 or ZT_ERR_INVALID (nothing appended is undone; callers stop). Syntax
 * beyond the '=' split is checked where labels are used (tun_msg_encode,
 * the policy module). */
struct tun_label;
int tun_labels_parse(char *s, struct tun_label *labels, size_t max, size_t *n);
/* Labels have one form in JSON, an object of "key": "value" members: on
 * the wire, in the store and in API answers. */
#define TUN_LABELS_JSON_MAX (TUN_LABELS_MAX * (2 * TUN_LABEL_MAX + 6) + 2) /* its bytes */
#define TUN_LABELS_TEXT_MAX (TUN_LABELS_MAX * (2 * TUN_LABEL_MAX + 2)) /* "k=v,..", NUL */
/* Adds l[0..n) to the JSON object obj as "key": "value" members, in their
 * order. 0 or ZT_ERR_NOMEM. */
int tun_labels_to_json(const struct tun_label *l, size_t n, cJSON *obj);
/* l[0..n) as the compact text of such an object with its keys sorted,
 * the one spelling of a set that compares as a string (the store keeps
 * labels so). 0, ZT_ERR_TOO_LARGE (more than TUN_LABELS_MAX, or outsz),
 * ZT_ERR_NOMEM. */
int tun_labels_json_text(const struct tun_label *l, size_t n, char *out, size_t outsz);
/* The pairs of such an object into l (room for TUN_LABELS_MAX) and *n,
 * checked as tun_labels_check; from a parsed object, or from its text (at
 * most TUN_LABELS_JSON_MAX bytes). 0, or ZT_ERR_TYPE (not an object, a
 * value not a string), ZT_ERR_TOO_LARGE, ZT_ERR_INVALID, a json_parse
 * error, with why saying which (for people) and *n 0. */
int tun_labels_from_json(const cJSON *obj, struct tun_label *l, size_t *n, char *why,
    size_t whysz);
int tun_labels_from_json_text(const char *text, struct tun_label *l, size_t *n, char *why,
    size_t whysz);
/* l[0..n) as people write them, "k=v,k2=v2" ("" for none; outsz of
 * TUN_LABELS_TEXT_MAX always suffices). 0, or ZT_ERR_TOO_LARGE with out
 * cut after the last pair that fit. */
int tun_labels_format(const struct tun_label *l, size_t n, char *out, size_t outsz);
/* Checks a label set as the wire format does: at most TUN_LABELS_MAX
 * pairs, keys and values 1..TUN_LABEL_MAX of [A-Za-z0-9._-], keys unique.
 * 0, ZT_ERR_TOO_LARGE or ZT_ERR_INVALID with why saying which (for
 * people). */
int tun_labels_check(const struct tun_label *l, size_t n, char *why, size_t whysz);

/* Host keys ("ssh-ed25519 <base64>", as ssh_host_key on the wire). */
#define TUN_HOSTKEY_FP_MAX 51 /* "SHA256:" + 43 base64 digits + NUL */
/* The key in its one spelling: its blob's base64 re-encoded, so that two
 * spellings of one key (base64 allows a few) compare equal as strings.
 * 0, ZT_ERR_INVALID (not such a key), ZT_ERR_TOO_LARGE, ZT_ERR_NOMEM. */
int tun_hostkey_canonical(const char *key, char *out, size_t outsz);
/* Its fingerprint as `ssh-keygen -l` prints it: "SHA256:" and the
 * unpadded base64 of the SHA-256 of its blob. Errors as above. */
int tun_hostkey_fingerprint(const char *key, char *out, size_t outsz);

/* Encodes m as one frame and writes it whole through writefn (0 or a
 * negative ZT_ERR_*): 0, an encoding error, or writefn's error. */
int tun_send(const struct tun_msg *m, int (*writefn)(void *arg, const void *p, size_t n),
    void *arg);

/* Appends one frame holding msg's compact JSON to out, all or nothing:
 * 0, ZT_ERR_INVALID (msg NULL), ZT_ERR_TOO_LARGE (JSON over TUN_FRAME_MAX
 * or out full), ZT_ERR_NOMEM. */
int tun_frame_encode(const cJSON *msg, struct buf *out);

/* ---- messages ---- */

enum tun_type {
	TUN_NONE = 0,
	TUN_JOIN,
	TUN_JOIN_OK,
	TUN_HELLO,
	TUN_HEARTBEAT,
	TUN_DIAL,
	TUN_ACCEPT,
	TUN_ERROR,
	TUN_RENEW,
};

struct tun_label {
	char key[TUN_LABEL_MAX + 1];
	char value[TUN_LABEL_MAX + 1];
};

/* One resource an agent advertises (see join above): fixed-size strings,
 * "" for a field its kind does not have. */
struct tun_resource {
	char name[TUN_NAME_MAX + 1];
	char kind[TUN_KIND_MAX + 1];
	char address[TUN_TARGET_MAX + 1];
	char host_key[TUN_HOSTKEY_MAX + 1];
	char cert_pin[TUN_CERT_PIN_MAX + 1];
	struct tun_label labels[TUN_RESOURCE_LABELS_MAX];
	size_t nlabels;
};
/* Bytes of the JSON text of a full list (an upper bound). */
#define TUN_RESOURCES_JSON_MAX (TUN_RESOURCES_MAX * (TUN_NAME_MAX + TUN_TARGET_MAX + \
	TUN_HOSTKEY_MAX + TUN_CERT_PIN_MAX + 96 + TUN_RESOURCE_LABELS_MAX * \
	(2 * TUN_LABEL_MAX + 6)) + 2)
/* Checks a list as the wire format does: 1..TUN_RESOURCES_MAX, each field
 * as described at the top, names unique. 0, ZT_ERR_TOO_LARGE or
 * ZT_ERR_INVALID with why naming the resource and field (for people). */
int tun_resources_check(const struct tun_resource *r, size_t n, char *why, size_t whysz);
/* The resources of a JSON array into r (room for TUN_RESOURCES_MAX) and
 * *n, checked as above; unknown keys, wrong types and repeated keys are
 * refused. From a parsed array, or from its text (at most
 * TUN_RESOURCES_JSON_MAX bytes). 0 or an error as tun_labels_from_json's,
 * *n 0 then. */
int tun_resources_from_json(const cJSON *arr, struct tun_resource *r, size_t *n, char *why,
    size_t whysz);
int tun_resources_from_json_text(const char *text, struct tun_resource *r, size_t *n,
    char *why, size_t whysz);
/* Appends r[0..n) to the JSON array arr, in their order. 0 or ZT_ERR_NOMEM. */
int tun_resources_to_json(const struct tun_resource *r, size_t n, cJSON *arr);
/* r[0..n) in their one spelling: sorted by name, host keys canonical,
 * labels sorted; the text two equal lists share (the store keeps them so).
 * 0, ZT_ERR_INVALID (a host key that is no key), ZT_ERR_TOO_LARGE,
 * ZT_ERR_NOMEM. */
int tun_resources_json_text(const struct tun_resource *r, size_t n, char *out, size_t outsz);
/* The resource called name in r[0..n), or NULL. */
const struct tun_resource *tun_resource_find(const struct tun_resource *r, size_t n,
    const char *name);

/*
 * One message, tagged by type; only the fields of that type (see the top
 * of this file) are set, the others are NULL / 0. Strings are owned,
 * NUL-terminated copies, freed (the token wiped) by tun_msg_clear().
 * Zero-initialise (or tun_msg_clear()) before first use.
 */
struct tun_msg {
	enum tun_type type;
	char *token;                               /* join */
	char *csr;                                 /* join, renew */
	char *name;                                /* join, hello */
	struct tun_label labels[TUN_LABELS_MAX];   /* join, hello */
	size_t nlabels;
	/* join, hello: an array of nresources (owned by a decoded message;
	 * a message built to be sent may borrow it) */
	struct tun_resource *resources;
	size_t nresources;
	char *cert;                                /* join_ok */
	char *ca;                                  /* join_ok */
	char *version;                             /* hello */
	int64_t seq;                               /* heartbeat */
	char *id;                                  /* dial, accept, error */
	char *resource;                            /* dial */
	char *code;                                /* error */
	char *message;                             /* error */
	/* After a failed decode or encode: the field and the reason, e.g.
	 * "labels: more than 32 pairs" (never a field's value). */
	char why[TUN_WHY_MAX];
};

/* Frees the strings (wiping the token) and the resources and zeroes m;
 * NULL is a no-op. */
void tun_msg_clear(struct tun_msg *m);
/* "join", "join_ok", ...; "?" for anything else. */
const char *tun_type_name(enum tun_type t);

/* Decodes one frame's JSON p[0..n) into *m (cleared first, so any previous
 * contents must have been cleared or be zero). 0 or an error as listed at
 * the top of this file; on error m holds only type TUN_NONE and why. */
int tun_msg_decode(const void *p, size_t n, struct tun_msg *m);
/* Decodes a parsed object (borrowed); as tun_msg_decode. */
int tun_msg_from_json(const cJSON *obj, struct tun_msg *m);
/* m as a JSON object (caller frees), after checking every field of its type
 * against the same rules as the decoder, so what one side sends the other
 * accepts: 0, ZT_ERR_PROTOCOL (bad type), ZT_ERR_NOT_FOUND (a required field
 * is NULL), ZT_ERR_INVALID, ZT_ERR_TOO_LARGE, ZT_ERR_NOMEM; m->why is not
 * touched (m is const), so errors are named only by code. */
int tun_msg_to_json(const struct tun_msg *m, cJSON **out);
/* tun_msg_to_json() then tun_frame_encode(): appends one frame to out. */
int tun_msg_encode(const struct tun_msg *m, struct buf *out);

#endif
