/*
 * api_request.c - libFuzzer target for the broker's /v1 request handling:
 * routing, media type, the Authorization header, body parsing and every
 * handler's field checks (brk_api_handle), on a real SQLite store.
 *
 * Input: byte 0 picks the method and path, byte 1 the Content-Type, then
 * the Authorization header up to the first '\n' (none if the input has no
 * '\n'), then the body. The store lives on tmpfs and the password hashes
 * use cheap scrypt parameters (still accepted by verify) so each run takes
 * well under a millisecond. Every response must have a status and a body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/aud_agg.h"
#include "broker/brk.h"
#include "broker/brk_api.h"
#include "common/crypto.h"
#include "common/log.h"
#include "store/store.h"

/* scrypt(ln=10, r=1, p=1) of "fuzz password 1". */
#define CHEAP_HASH "$scrypt$ln=10,r=1,p=1$enQtZnV6ei1zYWx0LTE2Yg==$" \
	"EflLtPISxHUhOpHCTmk5TEh49JAfREz8lsKRYaYdS8g="

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RUNS_PER_STORE 20000

static struct brk B;
static int64_t now_s = 1800000000;
static unsigned runs;

/* The clock moves 1000 s per input so login blocks (900 s) never stick and
 * the fuzzer keeps reaching the handlers behind them. */
static int64_t fixed_now(void)
{
	return now_s;
}

static void init(void)
{
	char dir[] = "/dev/shm/zt-fuzz-api-XXXXXX", db[64], cmd[96];
	char invite[CRYPTO_SHA256_HEX_LEN + 1];
	uint8_t secret[20] = { 1, 2, 3 };
	int64_t id = 0;

	log_init("fuzz", ZT_LOG_ERROR);
	if (mkdtemp(dir) == NULL) {
		abort();
	}
	snprintf(db, sizeof(db), "%s/zt.db", dir);
	if (store_open(db, &B.store) != 0) {
		abort();
	}
	/* SQLite keeps the open files; the directory can go now. */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0) {
		abort();
	}
	B.agg = aud_agg_new(60000);
	if (B.agg == NULL || brk_limits_init(&B.limits) != 0) {
		abort();
	}
	B.now = fixed_now;
	B.session_ttl = 3600;
	snprintf(B.dummy_hash, sizeof(B.dummy_hash), "%s", CHEAP_HASH);
	memset(invite, 'a', CRYPTO_SHA256_HEX_LEN);
	invite[CRYPTO_SHA256_HEX_LEN] = '\0';
	if (store_user_add(B.store, "alice", "ops", now_s, &id) != 0 ||
	    store_invite_add(B.store, invite, id, now_s + 60) != 0 ||
	    store_user_set_credentials(B.store, id, CHEAP_HASH, secret, sizeof(secret)) != 0 ||
	    store_user_enroll(B.store, invite, now_s, id, secret, sizeof(secret), 0) != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const routes[][2] = {
		{ "POST", "/v1/login" }, { "POST", "/v1/enroll" }, { "GET", "/v1/whoami" },
		{ "POST", "/v1/logout" }, { "GET", "/v1/login" }, { "PUT", "/v1/x" },
	};
	static const char *const types[] = {
		"application/json", "application/json; charset=utf-8", "text/plain", NULL,
	};
	struct brk_req req;
	struct brk_resp resp;
	char *auth = NULL;
	const uint8_t *nl;

	/* Every refusal is audited: start a fresh store now and then so the
	 * audit table does not fill tmpfs on long runs. */
	if (B.store != NULL && ++runs % RUNS_PER_STORE == 0) {
		store_free(B.store);
		brk_limits_fini(&B.limits);
		aud_agg_free(B.agg);
		memset(&B, 0, sizeof(B));
	}
	if (B.store == NULL) {
		init();
	}
	now_s += 1000;
	if (size < 2) {
		return 0;
	}
	memset(&req, 0, sizeof(req));
	req.method = routes[data[0] % 6][0];
	req.path = routes[data[0] % 6][1];
	req.content_type = types[data[1] % 4];
	req.source = "192.0.2.1";
	data += 2;
	size -= 2;
	nl = memchr(data, '\n', size);
	if (nl != NULL) {
		auth = strndup((const char *)data, (size_t)(nl - data));
		size -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	req.authorization = auth;
	req.body = data;
	req.body_len = size;
	brk_api_handle(&B, &req, &resp);
	if (resp.status < 200 || resp.status > 599 || resp.json == NULL) {
		abort();
	}
	brk_resp_clear(&resp);
	free(auth);
	return 0;
}
