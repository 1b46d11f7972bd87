/*
 * tun_test.c - unit tests for tunnel/tun: the frame reader fed every
 * split, poisoning lengths, and every control message's round trip and
 * refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "tunnel/tun.h"

#define HOSTKEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
#define RSAKEY "ssh-ed25519 AAAAB3NzaC1yc2EAAAAgAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define TOKEN "ztj_abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE"
#define CSR "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"
#define CERT "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"

/* Appends a frame with this length header and body to b. */
static void put_frame(struct buf *b, uint32_t len, const char *body)
{
	assert_int_equal(buf_put_u32(b, len), 0);
	assert_int_equal(buf_put(b, body, strlen(body)), 0);
}

/* Feeds p[0..n) split at `split` (and the rest whole); collects frames'
 * bodies, NUL-terminated, into out (each at most 255 bytes). Returns the
 * number of frames, or the reader's error. */
static int feed_split(const uint8_t *p, size_t n, size_t split, char out[][256], int maxf)
{
	struct tun_reader *r = NULL;
	size_t bounds[3] = { 0, split, n }, off, used;
	const uint8_t *f;
	size_t fn;
	int nf = 0, rc = 0;

	assert_int_equal(tun_reader_new(&r), 0);
	for (int part = 0; part < 2 && rc >= 0; part++) {
		off = bounds[part];
		while (off < bounds[part + 1]) {
			rc = tun_reader_feed(r, p + off, bounds[part + 1] - off, &used);
			off += used;
			if (rc < 0) {
				break;
			}
			if (rc == 1) {
				assert_int_equal(tun_reader_frame(r, &f, &fn), 0);
				assert_true(nf < maxf && fn < 256);
				memcpy(out[nf], f, fn);
				out[nf][fn] = '\0';
				nf++;
			} else {
				assert_int_equal(used, bounds[part + 1] - (off - used));
			}
		}
	}
	if (rc >= 0) {
		assert_int_equal(tun_reader_eof(r), 0);
	}
	tun_reader_free(r);
	return rc < 0 ? rc : nf;
}

static void test_frames_every_split(void **state)
{
	struct buf *b = buf_new(1024);
	char out[4][256];

	(void)state;
	assert_non_null(b);
	put_frame(b, 16, "{\"type\":\"accept\"");
	put_frame(b, 2, "{}");
	put_frame(b, 1, "x");
	for (size_t split = 0; split <= buf_len(b); split++) {
		memset(out, 0, sizeof(out));
		assert_int_equal(feed_split(buf_ptr(b), buf_len(b), split, out, 4), 3);
		assert_string_equal(out[0], "{\"type\":\"accept\"");
		assert_string_equal(out[1], "{}");
		assert_string_equal(out[2], "x");
	}
	buf_free(b);
}

/* One byte at a time, and the reader's state at a partial frame. */
static void test_frames_bytewise_and_eof(void **state)
{
	struct tun_reader *r = NULL;
	const uint8_t in[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0, 0 };
	const uint8_t *f = NULL;
	size_t used = 0, fn = 0;
	int frames = 0;

	(void)state;
	assert_int_equal(tun_reader_new(&r), 0);
	assert_int_equal(tun_reader_frame(r, &f, &fn), ZT_ERR_NOT_FOUND);
	for (size_t i = 0; i < sizeof(in); i++) {
		int rc = tun_reader_feed(r, in + i, 1, &used);

		assert_true(rc == 0 || rc == 1);
		assert_int_equal(used, 1);
		frames += rc;
		if (i == 1) {
			assert_int_equal(tun_reader_eof(r), ZT_ERR_TRUNCATED);
		}
		if (i == 6) {
			assert_int_equal(rc, 1);
			assert_int_equal(tun_reader_frame(r, &f, &fn), 0);
			assert_int_equal(fn, 3);
			assert_memory_equal(f, "abc", 3);
			assert_int_equal(tun_reader_eof(r), 0);
		}
	}
	assert_int_equal(frames, 1);
	assert_int_equal(tun_reader_eof(r), ZT_ERR_TRUNCATED);
	/* An empty feed is harmless. */
	assert_int_equal(tun_reader_feed(r, NULL, 0, &used), 0);
	assert_int_equal(used, 0);
	assert_int_equal(tun_reader_feed(NULL, in, 1, &used), ZT_ERR_INVALID);
	tun_reader_free(r);
	tun_reader_free(NULL);
}

static void check_poison(uint32_t len, int err)
{
	struct tun_reader *r = NULL;
	struct buf *b = buf_new(64);
	size_t used = 99;

	assert_non_null(b);
	/* A good frame first, then the bad header. */
	put_frame(b, 2, "{}");
	put_frame(b, len, "{}");
	assert_int_equal(tun_reader_new(&r), 0);
	assert_int_equal(tun_reader_feed(r, buf_ptr(b), buf_len(b), &used), 1);
	assert_int_equal(used, 6);
	assert_int_equal(tun_reader_feed(r, buf_ptr(b) + 6, buf_len(b) - 6, &used), err);
	assert_int_equal(used, 4);
	/* Poisoned for good: nothing more is taken. */
	assert_int_equal(tun_reader_feed(r, buf_ptr(b), buf_len(b), &used), err);
	assert_int_equal(used, 0);
	assert_int_equal(tun_reader_eof(r), err);
	tun_reader_free(r);
	buf_free(b);
}

static void test_frames_poison(void **state)
{
	char out[2][256];
	const uint8_t big[] = { 0, 1, 0, 1, 'x' };

	(void)state;
	check_poison(0, ZT_ERR_PROTOCOL);
	check_poison(TUN_FRAME_MAX + 1, ZT_ERR_TOO_LARGE);
	check_poison(UINT32_MAX, ZT_ERR_TOO_LARGE);
	/* The header is refused as soon as it is complete, whatever the split. */
	for (size_t split = 0; split <= sizeof(big); split++) {
		assert_int_equal(feed_split(big, sizeof(big), split, out, 2), ZT_ERR_TOO_LARGE);
	}
}

/* A frame of exactly TUN_FRAME_MAX bytes passes; one more does not encode. */
static void test_frames_max(void **state)
{
	struct tun_reader *r = NULL;
	struct buf *b = buf_new(TUN_FRAME_MAX + 16);
	cJSON *o = cJSON_CreateObject();
	char *pad = malloc(TUN_FRAME_MAX);
	const uint8_t *f;
	size_t used, fn, padlen;

	(void)state;
	assert_non_null(b);
	assert_non_null(o);
	assert_non_null(pad);
	/* {"p":"..."} is 8 bytes plus the string. */
	padlen = TUN_FRAME_MAX - 8;
	memset(pad, 'a', padlen);
	pad[padlen] = '\0';
	cJSON_AddStringToObject(o, "p", pad);
	assert_int_equal(tun_frame_encode(o, b), 0);
	assert_int_equal(buf_len(b), TUN_HDR_LEN + TUN_FRAME_MAX);
	assert_int_equal(tun_reader_new(&r), 0);
	assert_int_equal(tun_reader_feed(r, buf_ptr(b), buf_len(b), &used), 1);
	assert_int_equal(tun_reader_frame(r, &f, &fn), 0);
	assert_int_equal(fn, TUN_FRAME_MAX);
	tun_reader_free(r);

	buf_reset(b);
	pad[padlen] = 'a';
	pad[padlen + 1] = '\0';
	cJSON_ReplaceItemInObject(o, "p", cJSON_CreateString(pad));
	assert_int_equal(tun_frame_encode(o, b), ZT_ERR_TOO_LARGE);
	assert_int_equal(buf_len(b), 0);
	/* A full output buffer: nothing is written. */
	buf_free(b);
	b = buf_new(8);
	assert_non_null(b);
	assert_int_equal(tun_frame_encode(o, b), ZT_ERR_TOO_LARGE);
	assert_int_equal(buf_len(b), 0);
	assert_int_equal(tun_frame_encode(NULL, b), ZT_ERR_INVALID);
	free(pad);
	cJSON_Delete(o);
	buf_free(b);
}

/* Encodes m as a frame, reads it back with a reader, decodes it. */
static void round_trip(const struct tun_msg *m, struct tun_msg *back)
{
	struct tun_reader *r = NULL;
	struct buf *b = buf_new(TUN_FRAME_MAX + TUN_HDR_LEN);
	const uint8_t *f;
	size_t used, fn;

	assert_non_null(b);
	assert_int_equal(tun_msg_encode(m, b), 0);
	assert_int_equal(tun_reader_new(&r), 0);
	assert_int_equal(tun_reader_feed(r, buf_ptr(b), buf_len(b), &used), 1);
	assert_int_equal(used, buf_len(b));
	assert_int_equal(tun_reader_frame(r, &f, &fn), 0);
	assert_int_equal(tun_msg_decode(f, fn, back), 0);
	assert_int_equal(back->type, m->type);
	tun_reader_free(r);
	buf_free(b);
}

static void set_labels(struct tun_msg *m)
{
	snprintf(m->labels[0].key, sizeof(m->labels[0].key), "env");
	snprintf(m->labels[0].value, sizeof(m->labels[0].value), "staging");
	snprintf(m->labels[1].key, sizeof(m->labels[1].key), "team.Name_x-1");
	snprintf(m->labels[1].value, sizeof(m->labels[1].value), "web");
	m->nlabels = 2;
}

/* An ssh resource called web1 and an rdp one called desk1. */
static void set_resources(struct tun_resource *res)
{
	memset(res, 0, 2 * sizeof(*res));
	snprintf(res[0].name, sizeof(res[0].name), "web1");
	snprintf(res[0].kind, sizeof(res[0].kind), "ssh");
	snprintf(res[0].address, sizeof(res[0].address), "127.0.0.1:22");
	snprintf(res[0].host_key, sizeof(res[0].host_key), "%s", HOSTKEY);
	snprintf(res[1].name, sizeof(res[1].name), "desk1");
	snprintf(res[1].kind, sizeof(res[1].kind), "rdp");
	snprintf(res[1].address, sizeof(res[1].address), "10.0.0.5:3389");
	snprintf(res[1].cert_pin, sizeof(res[1].cert_pin), "sha256:%064d", 0);
	snprintf(res[1].labels[0].key, sizeof(res[1].labels[0].key), "os");
	snprintf(res[1].labels[0].value, sizeof(res[1].labels[0].value), "windows");
	res[1].nlabels = 1;
}

static void test_round_trips(void **state)
{
	struct tun_resource res[2];
	struct tun_msg m, back;

	(void)state;
	set_resources(res);
	memset(&m, 0, sizeof(m));
	memset(&back, 0, sizeof(back));

	m.type = TUN_JOIN;
	m.token = TOKEN;
	m.csr = CSR;
	m.name = "web1";
	m.resources = res;
	m.nresources = 1;
	set_labels(&m);
	round_trip(&m, &back);
	assert_string_equal(back.token, TOKEN);
	assert_string_equal(back.csr, CSR);
	assert_string_equal(back.name, "web1");
	assert_int_equal(back.nresources, 1);
	assert_string_equal(back.resources[0].address, "127.0.0.1:22");
	assert_string_equal(back.resources[0].host_key, HOSTKEY);
	assert_int_equal(back.nlabels, 2);
	assert_string_equal(back.labels[1].key, "team.Name_x-1");
	assert_string_equal(back.labels[1].value, "web");
	assert_null(back.version);
	tun_msg_clear(&back);

	/* hello, without labels, with an IPv6 address and an rdp resource
	 * with labels of its own. */
	memset(&m, 0, sizeof(m));
	m.type = TUN_HELLO;
	m.name = "db-2.prod";
	snprintf(res[0].address, sizeof(res[0].address), "[::1]:2222");
	m.resources = res;
	m.nresources = 2;
	m.version = "0.4.0+dev";
	round_trip(&m, &back);
	assert_string_equal(back.name, "db-2.prod");
	assert_string_equal(back.resources[0].address, "[::1]:2222");
	assert_string_equal(back.resources[1].kind, "rdp");
	assert_string_equal(back.resources[1].cert_pin, res[1].cert_pin);
	assert_string_equal(back.resources[1].host_key, "");
	assert_int_equal(back.resources[1].nlabels, 1);
	assert_string_equal(back.resources[1].labels[0].value, "windows");
	assert_string_equal(back.version, "0.4.0+dev");
	assert_int_equal(back.nlabels, 0);
	tun_msg_clear(&back);

	memset(&m, 0, sizeof(m));
	m.type = TUN_JOIN_OK;
	m.cert = CERT;
	m.ca = CERT;
	round_trip(&m, &back);
	assert_string_equal(back.cert, CERT);
	assert_string_equal(back.ca, CERT);
	tun_msg_clear(&back);

	memset(&m, 0, sizeof(m));
	m.type = TUN_HEARTBEAT;
	m.seq = TUN_SEQ_MAX;
	round_trip(&m, &back);
	assert_int_equal(back.seq, m.seq);
	tun_msg_clear(&back);

	memset(&m, 0, sizeof(m));
	m.type = TUN_DIAL;
	m.id = "s_0123-abcXYZ";
	m.resource = "web1";
	round_trip(&m, &back);
	assert_string_equal(back.id, "s_0123-abcXYZ");
	assert_string_equal(back.resource, "web1");
	tun_msg_clear(&back);

	memset(&m, 0, sizeof(m));
	m.type = TUN_RENEW;
	m.csr = CSR;
	round_trip(&m, &back);
	assert_string_equal(back.csr, CSR);
	assert_null(back.name);
	tun_msg_clear(&back);

	memset(&m, 0, sizeof(m));
	m.type = TUN_ACCEPT;
	m.id = "s_0123-abcXYZ";
	round_trip(&m, &back);
	assert_string_equal(back.id, "s_0123-abcXYZ");
	tun_msg_clear(&back);

	memset(&m, 0, sizeof(m));
	m.type = TUN_ERROR;
	m.code = "token_expired";
	m.message = "the join token expired; ask for a new one";
	round_trip(&m, &back);
	assert_string_equal(back.code, "token_expired");
	assert_string_equal(back.message, m.message);
	assert_null(back.id);
	tun_msg_clear(&back);
	m.code = "dial_failed";
	m.id = "d7";
	round_trip(&m, &back);
	assert_string_equal(back.id, "d7");
	tun_msg_clear(&back);
	m.id = "bad id";
	assert_int_not_equal(tun_msg_to_json(&m, &(cJSON *){ NULL }), 0);
	tun_msg_clear(NULL);
	assert_string_equal(tun_type_name(TUN_JOIN_OK), "join_ok");
	assert_string_equal(tun_type_name((enum tun_type)99), "?");
}

/* Decodes a JSON text; returns the error and leaves why for the caller. */
static int dec(const char *json, struct tun_msg *m)
{
	int r = tun_msg_decode(json, strlen(json), m);

	if (r != 0) {
		assert_int_equal(m->type, TUN_NONE);
		assert_null(m->name);
		assert_true(m->why[0] != '\0');
	}
	tun_msg_clear(m);
	return r;
}

static void test_refusals(void **state)
{
	struct tun_msg m;
	char big[TUN_MESSAGE_MAX + 64], labels[4096];
	size_t off;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":\"a\"}", &m), 0);
	/* Not JSON, not an object, trailing bytes. */
	assert_int_equal(dec("{", &m), ZT_ERR_INVALID);
	assert_int_equal(dec("[1]", &m), ZT_ERR_TYPE);
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":\"a\"} x", &m), ZT_ERR_TRAILING);
	/* type: missing, wrong type, unknown, too long to be known. */
	assert_int_equal(dec("{\"id\":\"a\"}", &m), ZT_ERR_NOT_FOUND);
	assert_int_equal(dec("{\"type\":7,\"id\":\"a\"}", &m), ZT_ERR_TYPE);
	assert_int_equal(dec("{\"type\":\"shell\",\"id\":\"a\"}", &m), ZT_ERR_PROTOCOL);
	assert_int_equal(dec("{\"type\":\"acceptacceptaccepta\",\"id\":\"a\"}", &m),
	    ZT_ERR_PROTOCOL);
	/* An unknown key, even one another type has. */
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":\"a\",\"x\":1}", &m), ZT_ERR_INVALID);
	{
		const char *j = "{\"type\":\"accept\",\"id\":\"a\",\"xq\":1}";

		assert_int_equal(tun_msg_decode(j, strlen(j), &m), ZT_ERR_INVALID);
	}
	assert_string_equal(m.why, "unknown key \"xq\"");
	tun_msg_clear(&m);
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":\"a\",\"resource\":\"w\"}", &m),
	    ZT_ERR_INVALID);
	/* A repeated key, which another parser might read differently. */
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":\"a\",\"id\":\"b\"}", &m),
	    ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"dial\",\"id\":\"a\",\"id\":\"b\"}", &m),
	    ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"accept\",\"type\":\"dial\",\"id\":\"a\"}", &m),
	    ZT_ERR_INVALID);
	/* Missing, wrong type, bad syntax, too long. */
	assert_int_equal(dec("{\"type\":\"accept\"}", &m), ZT_ERR_NOT_FOUND);
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":null}", &m), ZT_ERR_NOT_FOUND);
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":5}", &m), ZT_ERR_TYPE);
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":\"\"}", &m), ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":\"a b\"}", &m), ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":\"a/b\"}", &m), ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":\"0123456789012345678901234567890123456789"
	    "012345678901234567890123\"}", &m), 0);
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":\"0123456789012345678901234567890123456789"
	    "0123456789012345678901234\"}", &m), ZT_ERR_TOO_LARGE);
	assert_int_equal(dec("{\"type\":\"dial\",\"id\":\"a\",\"target\":\"ssh\"}", &m),
	    ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"dial\",\"id\":\"a\",\"resource\":\"Web\"}", &m),
	    ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"dial\",\"id\":\"a\",\"resource\":\"web1\"}", &m),
	    0);
	/* heartbeat seq: wrong type, negative, fraction, too big. */
	assert_int_equal(dec("{\"type\":\"heartbeat\",\"seq\":\"1\"}", &m), ZT_ERR_TYPE);
	assert_int_equal(dec("{\"type\":\"heartbeat\",\"seq\":-1}", &m), ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"heartbeat\",\"seq\":1.5}", &m), ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"heartbeat\",\"seq\":1e300}", &m), ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"heartbeat\",\"seq\":0}", &m), 0);
	assert_int_equal(dec("{\"type\":\"heartbeat\",\"seq\":999999999999999}", &m), 0);
	assert_int_equal(dec("{\"type\":\"heartbeat\",\"seq\":1000000000000000}", &m),
	    ZT_ERR_INVALID);
	/* error message: too long, control characters. */
	off = (size_t)snprintf(big, sizeof(big), "{\"type\":\"error\",\"code\":\"x\",\"message\":\"");
	memset(big + off, 'm', TUN_MESSAGE_MAX + 1);
	snprintf(big + off + TUN_MESSAGE_MAX + 1, sizeof(big) - off - TUN_MESSAGE_MAX - 1, "\"}");
	assert_int_equal(dec(big, &m), ZT_ERR_TOO_LARGE);
	assert_int_equal(dec("{\"type\":\"error\",\"code\":\"x\",\"message\":\"a\\nb\"}", &m),
	    ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"error\",\"code\":\"Bad\",\"message\":\"a\"}", &m),
	    ZT_ERR_INVALID);
	/* error's optional id (a failed dial): absent, valid, null, bad. */
	assert_int_equal(dec("{\"type\":\"error\",\"code\":\"x\",\"message\":\"a\"}", &m), 0);
	assert_int_equal(dec("{\"type\":\"error\",\"code\":\"x\",\"message\":\"a\",\"id\":\"d1\"}",
	    &m), 0);
	assert_int_equal(dec("{\"type\":\"error\",\"code\":\"x\",\"message\":\"a\",\"id\":null}",
	    &m), ZT_ERR_NOT_FOUND);
	assert_int_equal(dec("{\"type\":\"error\",\"code\":\"x\",\"message\":\"a\",\"id\":\"a b\"}",
	    &m), ZT_ERR_INVALID);
	/* Nesting beyond the message's depth. */
	assert_int_equal(dec("{\"type\":\"accept\",\"id\":[[[[[1]]]]]}", &m), ZT_ERR_TOO_LARGE);

	/* hello fields. */
#define RES1(target, key) "\"resources\":[{\"name\":\"web1\",\"kind\":\"ssh\"," \
	"\"address\":\"" target "\",\"host_key\":\"" key "\"}]"
#define HELLO(name, labels, target, key) "{\"type\":\"hello\",\"name\":\"" name "\"," labels \
	RES1(target, key) ",\"version\":\"1\"}"
	assert_int_equal(dec(HELLO("web1", "", "h.example:22", HOSTKEY), &m), 0);
	assert_int_equal(dec(HELLO("Web1", "", "h:22", HOSTKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("-web", "", "h:22", HOSTKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "", "h:0", HOSTKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "", "h:65536", HOSTKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "", "h:022", HOSTKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "", "h", HOSTKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "", ":22", HOSTKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "", "h/x:22", HOSTKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "", "[::g]:22", HOSTKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "", "::1:22", HOSTKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "", "h:22", RSAKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "", "h:22", HOSTKEY " comment"), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "", "h:22", "ssh-ed25519 AAAA"), &m), ZT_ERR_INVALID);
	/* labels */
	assert_int_equal(dec(HELLO("web1", "\"labels\":{\"env\":\"prod\"},", "h:22", HOSTKEY), &m),
	    0);
	assert_int_equal(dec(HELLO("web1", "\"labels\":{},", "h:22", HOSTKEY), &m), 0);
	assert_int_equal(dec(HELLO("web1", "\"labels\":[],", "h:22", HOSTKEY), &m), ZT_ERR_TYPE);
	assert_int_equal(dec(HELLO("web1", "\"labels\":{\"env\":1},", "h:22", HOSTKEY), &m),
	    ZT_ERR_TYPE);
	assert_int_equal(dec(HELLO("web1", "\"labels\":{\"e v\":\"x\"},", "h:22", HOSTKEY), &m),
	    ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "\"labels\":{\"env\":\"\"},", "h:22", HOSTKEY), &m),
	    ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "\"labels\":{\"a\":\"1\",\"a\":\"2\"},", "h:22",
	    HOSTKEY), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO("web1", "\"labels\":{\"k\":\"0123456789012345678901234567890"
	    "12345678901234567890123456789012\"},", "h:22", HOSTKEY), &m), 0);
	assert_int_equal(dec(HELLO("web1", "\"labels\":{\"k\":\"0123456789012345678901234567890"
	    "123456789012345678901234567890123\"},", "h:22", HOSTKEY), &m), ZT_ERR_TOO_LARGE);
	/* 32 pairs pass, 33 do not. */
	for (int n = 32; n <= 33; n++) {
		char doc[8192];

		off = (size_t)snprintf(labels, sizeof(labels), "\"labels\":{");
		for (int i = 0; i < n; i++) {
			off += (size_t)snprintf(labels + off, sizeof(labels) - off, "%s\"k%d\":\"v\"",
			    i ? "," : "", i);
		}
		snprintf(labels + off, sizeof(labels) - off, "},");
		snprintf(doc, sizeof(doc), "{\"type\":\"hello\",\"name\":\"w\",%s"
		    RES1("h:22", "%s") ",\"version\":\"1\"}", labels, HOSTKEY);
		assert_int_equal(dec(doc, &m), n == 32 ? 0 : ZT_ERR_TOO_LARGE);
	}
	/* join: token, csr. */
#define JOIN(tok, csr) "{\"type\":\"join\",\"token\":\"" tok "\",\"csr\":\"" csr "\"," \
	"\"name\":\"w\"," RES1("h:22", HOSTKEY) "}"
#define JCSR "-----BEGIN CERTIFICATE REQUEST-----\\nMIIB\\n-----END CERTIFICATE REQUEST-----\\n"
	assert_int_equal(dec(JOIN(TOKEN, JCSR), &m), 0);
	assert_int_equal(dec(JOIN("zts_abc", JCSR), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(JOIN("ztj_", JCSR), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(JOIN("ztj_a.b", JCSR), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(JOIN(TOKEN "0123456789012345678901234567890123", JCSR), &m),
	    ZT_ERR_TOO_LARGE);
	assert_int_equal(dec(JOIN(TOKEN, "-----BEGIN CERTIFICATE-----\\nx\\n"
	    "-----END CERTIFICATE-----"), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(JOIN(TOKEN, "-----BEGIN CERTIFICATE REQUEST-----\\nx"), &m),
	    ZT_ERR_INVALID);
	assert_int_equal(dec("{\"type\":\"join_ok\",\"cert\":\"" JCSR "\",\"ca\":\"" JCSR "\"}",
	    &m), ZT_ERR_INVALID);
	/* Hostile input that is NUL-laden. */
	assert_int_equal(tun_msg_decode("{\"type\":\"accept\",\"id\":\"a\0\"}", 26, &m),
	    ZT_ERR_INVALID);
	tun_msg_clear(&m);
}

/* A resource list's rules, on the wire and in its stored form. */
static void test_resources(void **state)
{
	static struct tun_resource res[TUN_RESOURCES_MAX + 1], back[TUN_RESOURCES_MAX];
	static char text[TUN_RESOURCES_JSON_MAX + 1];
	char why[TUN_WHY_MAX], doc[4096];
	struct tun_msg m;
	size_t n = 0;

	(void)state;
	memset(&m, 0, sizeof(m));
#define HELLO_RES(list) "{\"type\":\"hello\",\"name\":\"w\",\"resources\":" list \
	",\"version\":\"1\"}"
#define SSH_RES(name) "{\"name\":\"" name "\",\"kind\":\"ssh\",\"address\":\"h:22\"," \
	"\"host_key\":\"" HOSTKEY "\"}"
#define PIN "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	snprintf(doc, sizeof(doc), "%s", HELLO_RES("[" SSH_RES("a") "," SSH_RES("b") "]"));
	assert_int_equal(tun_msg_decode(doc, strlen(doc), &m), 0);
	assert_int_equal(m.nresources, 2);
	assert_string_equal(m.resources[1].name, "b");
	tun_msg_clear(&m);
	/* Missing, empty, not an array, a name twice, an unknown key. */
	assert_int_equal(dec("{\"type\":\"hello\",\"name\":\"w\",\"version\":\"1\"}", &m),
	    ZT_ERR_NOT_FOUND);
	assert_int_equal(dec(HELLO_RES("[]"), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO_RES("{}"), &m), ZT_ERR_TYPE);
	snprintf(doc, sizeof(doc), "%s", HELLO_RES("[" SSH_RES("a") "," SSH_RES("a") "]"));
	assert_int_equal(tun_msg_decode(doc, strlen(doc), &m), ZT_ERR_INVALID);
	assert_string_equal(m.why, "resources[1].name: appears twice");
	snprintf(doc, sizeof(doc), "%s", HELLO_RES("[{\"name\":\"a\",\"kind\":\"ssh\","
	    "\"address\":\"h:22\",\"host_key\":\"" HOSTKEY "\",\"port\":\"1\"}]"));
	assert_int_equal(tun_msg_decode(doc, strlen(doc), &m), ZT_ERR_INVALID);
	assert_string_equal(m.why, "resources[0]: unknown key \"port\"");
	assert_int_equal(dec(HELLO_RES("[{\"name\":\"a\",\"name\":\"b\",\"kind\":\"ssh\","
	    "\"address\":\"h:22\",\"host_key\":\"" HOSTKEY "\"}]"), &m), ZT_ERR_INVALID);
	/* Kinds: ssh needs a host key and no pin, rdp a pin and no key. */
	assert_int_equal(dec(HELLO_RES("[{\"name\":\"a\",\"kind\":\"vnc\",\"address\":"
	    "\"h:22\"}]"), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO_RES("[{\"name\":\"a\",\"kind\":\"ssh\",\"address\":"
	    "\"h:22\"}]"), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO_RES("[{\"name\":\"a\",\"kind\":\"rdp\",\"address\":"
	    "\"h:3389\",\"cert_pin\":\"" PIN "\"}]"), &m), 0);
	assert_int_equal(dec(HELLO_RES("[{\"name\":\"a\",\"kind\":\"rdp\",\"address\":"
	    "\"h:3389\",\"cert_pin\":\"sha256:ABC\"}]"), &m), ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO_RES("[{\"name\":\"a\",\"kind\":\"rdp\",\"address\":"
	    "\"h:3389\",\"cert_pin\":\"" PIN "\",\"host_key\":\"" HOSTKEY "\"}]"), &m),
	    ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO_RES("[{\"name\":\"a\",\"kind\":\"ssh\",\"address\":"
	    "\"h:22\",\"host_key\":\"" HOSTKEY "\",\"cert_pin\":\"" PIN "\"}]"), &m),
	    ZT_ERR_INVALID);
	assert_int_equal(dec(HELLO_RES("[{\"name\":\"a\",\"kind\":\"ssh\",\"address\":"
	    "\"h:22\",\"host_key\":5}]"), &m), ZT_ERR_TYPE);
	/* A resource's own labels: at most TUN_RESOURCE_LABELS_MAX. */
	for (int k = TUN_RESOURCE_LABELS_MAX; k <= TUN_RESOURCE_LABELS_MAX + 1; k++) {
		size_t off = (size_t)snprintf(doc, sizeof(doc), "{\"type\":\"hello\",\"name\":"
		    "\"w\",\"resources\":[{\"name\":\"a\",\"kind\":\"ssh\",\"address\":"
		    "\"h:22\",\"host_key\":\"%s\",\"labels\":{", HOSTKEY);

		for (int i = 0; i < k; i++) {
			off += (size_t)snprintf(doc + off, sizeof(doc) - off, "%s\"k%d\":\"v\"",
			    i ? "," : "", i);
		}
		snprintf(doc + off, sizeof(doc) - off, "}}],\"version\":\"1\"}");
		assert_int_equal(dec(doc, &m), k == TUN_RESOURCE_LABELS_MAX ? 0 : ZT_ERR_TOO_LARGE);
	}
	tun_msg_clear(&m);

	/* A full list, full of labels, is one frame; one more is refused. */
	for (int i = 0; i <= TUN_RESOURCES_MAX; i++) {
		struct tun_resource *x = &res[i];

		snprintf(x->name, sizeof(x->name), "resource-%02d-%051d", TUN_RESOURCES_MAX - i, 0);
		snprintf(x->kind, sizeof(x->kind), "ssh");
		snprintf(x->address, sizeof(x->address), "%0240d.example:65535", i);
		snprintf(x->host_key, sizeof(x->host_key), "%s", HOSTKEY);
		for (size_t k = 0; k < TUN_RESOURCE_LABELS_MAX; k++) {
			snprintf(x->labels[k].key, sizeof(x->labels[k].key), "k%zu%061d", k, 0);
			snprintf(x->labels[k].value, sizeof(x->labels[k].value), "%063d", 0);
		}
		x->nlabels = TUN_RESOURCE_LABELS_MAX;
	}
	assert_int_equal(tun_resources_check(res, TUN_RESOURCES_MAX + 1, why, sizeof(why)),
	    ZT_ERR_TOO_LARGE);
	memset(&m, 0, sizeof(m));
	m.type = TUN_HELLO;
	m.name = "w";
	m.version = "1";
	m.resources = res;
	m.nresources = TUN_RESOURCES_MAX;
	{
		struct buf *b = buf_new(TUN_HDR_LEN + TUN_FRAME_MAX);
		struct tun_msg d;

		assert_non_null(b);
		memset(&d, 0, sizeof(d));
		assert_int_equal(tun_msg_encode(&m, b), 0);
		assert_true(buf_len(b) < TUN_FRAME_MAX / 2);
		assert_int_equal(tun_msg_decode(buf_ptr(b) + TUN_HDR_LEN, buf_len(b) - TUN_HDR_LEN,
		    &d), 0);
		assert_int_equal(d.nresources, TUN_RESOURCES_MAX);
		tun_msg_clear(&d);
		buf_free(b);
	}
	/* The stored form: sorted by name, and it reads back. */
	assert_int_equal(tun_resources_json_text(res, TUN_RESOURCES_MAX, text, sizeof(text)), 0);
	assert_true(strlen(text) <= TUN_RESOURCES_JSON_MAX);
	assert_int_equal(tun_resources_from_json_text(text, back, &n, why, sizeof(why)), 0);
	assert_int_equal(n, TUN_RESOURCES_MAX);
	assert_string_equal(back[0].name, res[TUN_RESOURCES_MAX - 1].name);
	assert_ptr_equal(tun_resource_find(back, n, res[3].name), &back[TUN_RESOURCES_MAX - 4]);
	assert_null(tun_resource_find(back, n, "nope"));
	assert_int_equal(tun_resources_from_json_text("[{\"name\":1}]", back, &n, why,
	    sizeof(why)), ZT_ERR_TYPE);
	assert_int_equal(n, 0);
}

/* The encoder refuses what the decoder would. */
static void test_encode_refusals(void **state)
{
	struct buf *b = buf_new(TUN_FRAME_MAX);
	struct tun_resource res[2];
	struct tun_msg m;
	cJSON *o = (cJSON *)&o;

	(void)state;
	set_resources(res);
	assert_non_null(b);
	memset(&m, 0, sizeof(m));
	assert_int_equal(tun_msg_encode(&m, b), ZT_ERR_PROTOCOL);
	m.type = TUN_ACCEPT;
	assert_int_equal(tun_msg_encode(&m, b), ZT_ERR_NOT_FOUND);
	m.id = "a b";
	assert_int_equal(tun_msg_encode(&m, b), ZT_ERR_INVALID);
	m.id = "";
	assert_int_equal(tun_msg_encode(&m, b), ZT_ERR_INVALID);
	m.type = TUN_HEARTBEAT;
	m.seq = -1;
	assert_int_equal(tun_msg_encode(&m, b), ZT_ERR_INVALID);
	m.type = TUN_HELLO;
	m.name = "w";
	m.resources = res;
	m.nresources = 1;
	m.version = "1";
	set_labels(&m);
	snprintf(m.labels[1].key, sizeof(m.labels[1].key), "env");
	assert_int_equal(tun_msg_encode(&m, b), ZT_ERR_INVALID);
	m.nlabels = TUN_LABELS_MAX + 1;
	assert_int_equal(tun_msg_encode(&m, b), ZT_ERR_TOO_LARGE);
	m.nlabels = 0;
	m.version = "1 2";
	assert_int_equal(tun_msg_to_json(&m, &o), ZT_ERR_INVALID);
	assert_null(o);
	assert_int_equal(buf_len(b), 0);
	m.version = "1";
	assert_int_equal(tun_msg_encode(&m, b), 0);
	assert_true(buf_len(b) > TUN_HDR_LEN);
	assert_int_equal(tun_msg_to_json(NULL, &o), ZT_ERR_INVALID);
	buf_free(b);
}

static void test_labels_parse(void **state)
{
	struct tun_label l[3];
	char a[] = "env=staging,team=web", b[] = "zone=eu", c[] = "x=1", empty_v[] = "k=",
	    empty_k[] = "=v", no_eq[] = "k", long_v[TUN_LABEL_MAX + 8];
	size_t n = 0;

	(void)state;
	assert_int_equal(tun_labels_parse(a, l, 3, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].key, "env");
	assert_string_equal(l[1].value, "web");
	/* Appends: --labels may be given more than once. */
	assert_int_equal(tun_labels_parse(b, l, 3, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(l[2].key, "zone");
	assert_int_equal(tun_labels_parse(c, l, 3, &n), ZT_ERR_INVALID); /* full */
	n = 0;
	assert_int_equal(tun_labels_parse(empty_v, l, 3, &n), ZT_ERR_INVALID);
	assert_int_equal(tun_labels_parse(empty_k, l, 3, &n), ZT_ERR_INVALID);
	assert_int_equal(tun_labels_parse(no_eq, l, 3, &n), ZT_ERR_INVALID);
	memset(long_v, 'v', sizeof(long_v) - 1);
	long_v[0] = 'k';
	long_v[1] = '=';
	long_v[sizeof(long_v) - 1] = '\0';
	assert_int_equal(tun_labels_parse(long_v, l, 3, &n), ZT_ERR_INVALID);
	assert_int_equal(n, 0);
}

/* Labels in their other forms: the stored JSON text (one spelling, keys
 * sorted), back from it (checked as the wire checks them), and the
 * "k=v,k2=v2" people read. */
static void test_labels_forms(void **state)
{
	struct tun_label l[TUN_LABELS_MAX], back[TUN_LABELS_MAX];
	char json[TUN_LABELS_JSON_MAX + 1], text[TUN_LABELS_TEXT_MAX], why[TUN_WHY_MAX], small[12];
	char in[] = "team=web,env=staging";
	size_t n = 0, nb = 0;

	(void)state;
	assert_int_equal(tun_labels_parse(in, l, TUN_LABELS_MAX, &n), 0);
	assert_int_equal(tun_labels_json_text(l, n, json, sizeof(json)), 0);
	assert_string_equal(json, "{\"env\":\"staging\",\"team\":\"web\"}");
	assert_int_equal(tun_labels_json_text(l, 0, json, sizeof(json)), 0);
	assert_string_equal(json, "{}");
	assert_int_equal(tun_labels_json_text(l, n, small, sizeof(small)), ZT_ERR_TOO_LARGE);

	assert_int_equal(tun_labels_from_json_text("{\"b\":\"2\",\"a\":\"1\"}", back, &nb, why,
	    sizeof(why)), 0);
	assert_int_equal(nb, 2);
	assert_string_equal(back[0].key, "b");
	assert_int_equal(tun_labels_format(back, nb, text, sizeof(text)), 0);
	assert_string_equal(text, "b=2,a=1");
	assert_int_equal(tun_labels_format(back, 0, text, sizeof(text)), 0);
	assert_string_equal(text, "");
	/* Cut after the last pair that fits. */
	assert_int_equal(tun_labels_format(back, nb, small, 5), ZT_ERR_TOO_LARGE);
	assert_string_equal(small, "b=2");

	/* The wire format's rules, with why. */
	assert_int_equal(tun_labels_from_json_text("[]", back, &nb, why, sizeof(why)),
	    ZT_ERR_TYPE);
	assert_int_equal(tun_labels_from_json_text("{\"e v\":\"x\"}", back, &nb, why,
	    sizeof(why)), ZT_ERR_INVALID);
	assert_int_equal(nb, 0);
	assert_int_equal(tun_labels_from_json_text("{\"a\":1}", back, &nb, why, sizeof(why)),
	    ZT_ERR_TYPE);
	assert_string_equal(why, "labels: values are strings");
	assert_int_not_equal(tun_labels_from_json_text("{", back, &nb, why, sizeof(why)), 0);
	assert_int_not_equal(tun_labels_from_json_text("", back, &nb, why, sizeof(why)), 0);

	/* The largest set fits each form's named bound. */
	for (size_t i = 0; i < TUN_LABELS_MAX; i++) {
		memset(l[i].key, 'k', TUN_LABEL_MAX);
		l[i].key[TUN_LABEL_MAX] = '\0';
		l[i].key[0] = (char)('a' + (int)(i % 26));
		l[i].key[1] = (char)('A' + (int)(i / 26));
		memset(l[i].value, 'v', TUN_LABEL_MAX);
		l[i].value[TUN_LABEL_MAX] = '\0';
	}
	assert_int_equal(tun_labels_json_text(l, TUN_LABELS_MAX, json, sizeof(json)), 0);
	assert_int_equal(strlen(json), TUN_LABELS_JSON_MAX - 1);
	assert_int_equal(tun_labels_from_json_text(json, back, &nb, why, sizeof(why)), 0);
	assert_int_equal(nb, TUN_LABELS_MAX);
	assert_int_equal(tun_labels_format(l, TUN_LABELS_MAX, text, sizeof(text)), 0);
	assert_int_equal(strlen(text), sizeof(text) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels_parse),
		cmocka_unit_test(test_labels_forms),
		cmocka_unit_test(test_frames_every_split),
		cmocka_unit_test(test_frames_bytewise_and_eof),
		cmocka_unit_test(test_frames_poison),
		cmocka_unit_test(test_frames_max),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_resources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
