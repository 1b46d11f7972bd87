/*
 * brk_web.c - the approval page (brk_web.h): sign-in, the held call, the
 * answer. Pages are built server-side from escaped text; the answers go
 * through the same functions as the /v1 API (brk_auth, brk_approvals), so
 * a browser gets exactly the checks, limits and audit of ztctl.
 */
#include "broker/brk_web.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_approvals.h"
#include "broker/brk_websession.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/dur.h"
#include "common/err.h"
#include "common/json.h"
#include "store/store.h"

#define CSRF_HEX BRK_CSRF_HEX
#define LOGIN_SUFFIX "/login"

/* ---- forms ---- */

int brk_form_add(struct brk_form *f, const char *key, uint64_t off, const char *data,
    size_t size)
{
	size_t i;

	if (f->bad) {
		return ZT_ERR_INVALID;
	}
	if (key == NULL || strlen(key) >= BRK_FORM_KEY_MAX || (size > 0 && data == NULL) ||
	    memchr(data != NULL ? data : "", '\0', size) != NULL) {
		goto bad;
	}
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->key[i], key) == 0) {
			break;
		}
	}
	if (i == f->n) {
		/* A new field starts at offset 0; a repeated key starts over. */
		if (off != 0 || f->n == BRK_FORM_FIELDS) {
			goto bad;
		}
		memcpy(f->key[i], key, strlen(key) + 1);
		f->len[i] = 0;
		f->value[i][0] = '\0';
		f->n++;
	} else if (off == 0 || off != f->len[i]) {
		goto bad; /* a key given twice, or a piece out of order */
	}
	if (size > BRK_FORM_VALUE_MAX - f->len[i]) {
		goto bad;
	}
	memcpy(f->value[i] + f->len[i], data != NULL ? data : "", size);
	f->len[i] += size;
	f->value[i][f->len[i]] = '\0';
	return 0;
bad:
	f->bad = 1;
	return ZT_ERR_INVALID;
}

const char *brk_form_get(const struct brk_form *f, const char *key)
{
	if (f == NULL || f->bad) {
		return NULL;
	}
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->key[i], key) == 0) {
			return f->value[i];
		}
	}
	return NULL;
}

/* ---- routes ---- */

int brk_web_path(const char *path)
{
	return strncmp(path, BRK_WEB_PREFIX, strlen(BRK_WEB_PREFIX)) == 0;
}

int brk_web_route(const char *path, char *id, int *login)
{
	const char *p = path + strlen(BRK_WEB_PREFIX);
	size_t n;

	if (!brk_web_path(path)) {
		return ZT_ERR_NOT_FOUND;
	}
	n = strspn(p, "0123456789abcdef");

	if (n != STORE_APPROVAL_ID_LEN) {
		return ZT_ERR_NOT_FOUND;
	}
	*login = strcmp(p + n, LOGIN_SUFFIX) == 0;
	if (p[n] != '\0' && !*login) {
		return ZT_ERR_NOT_FOUND;
	}
	memcpy(id, p, n);
	id[n] = '\0';
	return 0;
}

/* ---- pages ---- */

/* Appends s with & < > " ' escaped. */
static void esc(struct buf *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': buf_putf(out, "&amp;"); break;
		case '<': buf_putf(out, "&lt;"); break;
		case '>': buf_putf(out, "&gt;"); break;
		case '"': buf_putf(out, "&quot;"); break;
		case '\'': buf_putf(out, "&#39;"); break;
		default: buf_put(out, s, 1); break;
		}
	}
}

static struct buf *page_start(const char *title)
{
	struct buf *out = buf_new(BRK_WEB_PAGE_MAX);

	if (out != NULL) {
		buf_putf(out, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width\"><title>zt: ");
		esc(out, title);
		buf_putf(out, "</title></head><body><main><h1>");
		esc(out, title);
		buf_putf(out, "</h1>\n");
	}
	return out;
}

/* Ends the page into resp with status. */
static void page_end(struct buf *out, int status, struct brk_resp *resp)
{
	resp->status = status;
	if (out != NULL && buf_putf(out, "</main></body></html>\n") == 0 &&
	    (resp->html = malloc(buf_len(out) + 1)) != NULL) {
		memcpy(resp->html, buf_ptr(out), buf_len(out));
		resp->html[buf_len(out)] = '\0';
	} else {
		resp->status = 500;
	}
	buf_free(out);
}

static void message_page(const char *title, const char *text, int status,
    struct brk_resp *resp)
{
	struct buf *out = page_start(title);

	if (out != NULL) {
		buf_putf(out, "<p>");
		esc(out, text);
		buf_putf(out, "</p>\n");
	}
	page_end(out, status, resp);
}

/* The message of a JSON error response, or a fallback. */
static const char *error_of(const struct brk_resp *r)
{
	const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(r->json, "error"), "message"));

	return m != NULL ? m : "the request failed";
}

/* ---- CSRF (brk_websession.h's tokens, read from the form) ---- */

static int csrf_ok(const struct brk *b, const struct brk_req *req, const char *what,
    const char *value)
{
	return brk_websession_csrf_ok(b, what, value, brk_form_get(req->form, "csrf"));
}

static void set_cookie(struct brk_resp *resp, int slot, const char *name, const char *value,
    int64_t max_age)
{
	snprintf(resp->set_cookie[slot], sizeof(resp->set_cookie[slot]), "%s=%s; Path=%s; "
	    "Max-Age=%lld; HttpOnly; Secure; SameSite=Strict", name, value, BRK_WEB_PREFIX,
	    (long long)max_age);
}

/* ---- sign-in ---- */

static void login_page(struct brk *b, const struct brk_req *req, const char *id,
    const char *error, int status, struct brk_resp *resp)
{
	char nonce[CSRF_HEX + 1], csrf[CSRF_HEX + 1];
	const char *seed = req->cookie_csrf;
	uint8_t rnd[16];
	struct buf *out;

	if (seed == NULL || strlen(seed) != 2 * sizeof(rnd) ||
	    strspn(seed, "0123456789abcdef") != 2 * sizeof(rnd)) {
		if (crypto_random(rnd, sizeof(rnd)) != 0 ||
		    crypto_hex(rnd, sizeof(rnd), nonce, sizeof(nonce)) != 0) {
			message_page("error", "internal error", 500, resp);
			return;
		}
		set_cookie(resp, 1, BRK_WEB_CSRF_COOKIE, nonce, BRK_WEB_SESSION_TTL);
		seed = nonce;
	}
	brk_websession_csrf(b, "login", seed, csrf);
	out = page_start("sign in to answer a held call");
	if (out != NULL) {
		if (error != NULL) {
			buf_putf(out, "<p role=\"alert\">");
			esc(out, error);
			buf_putf(out, "</p>\n");
		}
		buf_putf(out, "<form method=\"post\" action=\"%s%s%s\">\n"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
		    "<p><label>User <input name=\"user\" autocomplete=\"username\" required></label></p>\n"
		    "<p><label>Password <input name=\"password\" type=\"password\" "
		    "autocomplete=\"current-password\" required></label></p>\n"
		    "<p><label>One-time code <input name=\"otp\" inputmode=\"numeric\" "
		    "autocomplete=\"one-time-code\" required></label></p>\n"
		    "<p><button type=\"submit\">Sign in</button></p>\n</form>\n",
		    BRK_WEB_PREFIX, id, LOGIN_SUFFIX, csrf);
	}
	page_end(out, status, resp);
}

static void login(struct brk *b, const struct brk_req *req, const char *id,
    struct brk_resp *resp)
{
	static const char *const fields[] = { "user", "password", "otp" };
	struct brk_resp lr;
	const char *token;
	cJSON *body;

	if (!csrf_ok(b, req, "login", req->cookie_csrf)) {
		login_page(b, req, id, "the form expired or did not come from this page; sign in "
		    "again", 403, resp);
		return;
	}
	if ((body = cJSON_CreateObject()) == NULL) {
		message_page("error", "internal error", 500, resp);
		return;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *v = brk_form_get(req->form, fields[i]);

		cJSON_AddStringToObject(body, fields[i], v != NULL ? v : "");
	}
	memset(&lr, 0, sizeof(lr));
	brk_auth_login_for(b, req, body, BRK_WEB_SESSION_TTL, &lr);
	json_delete_wiped(body);
	token = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(lr.json, "token"));
	if (lr.status != 200 || token == NULL) {
		login_page(b, req, id, error_of(&lr), lr.status >= 400 ? lr.status : 500, resp);
		resp->retry_after = lr.retry_after;
	} else {
		set_cookie(resp, 0, BRK_WEB_SESSION_COOKIE, token, BRK_WEB_SESSION_TTL);
		resp->status = 303;
		snprintf(resp->location, sizeof(resp->location), "%s%s", BRK_WEB_PREFIX, id);
	}
	brk_resp_clear(&lr);
}

/* ---- the call ---- */

static void row(struct buf *out, const char *name, const char *value)
{
	buf_putf(out, "<tr><th scope=\"row\">%s</th><td>", name);
	esc(out, value);
	buf_putf(out, "</td></tr>\n");
}

static void call_page(struct brk *b, const struct brk_identity *who, const char *id,
    const char *note, int status, struct brk_resp *resp)
{
	const char *answer, *state;
	char csrf[CSRF_HEX + 1], left[32] = "", max[16] = "";
	cJSON *v = NULL;
	struct buf *out;
	int64_t exp = 0, grant = 0;
	int r = brk_approvals_view(b, who, id, &v);

	if (r != 0 && r != ZT_ERR_INVALID) {
		message_page("no such call", r == ZT_ERR_NOT_FOUND ? "There is no held call here "
		    "that you may see." : "internal error", r == ZT_ERR_NOT_FOUND ? 404 : 500, resp);
		return;
	}
	answer = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "answer"));
	state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "state"));
	json_get_int(v, "expires_at", 0, INT64_MAX / 2, &exp);
	json_get_int(v, "grant_max_s", 0, INT64_MAX / 2, &grant);
	if (exp > b->now()) {
		dur_format(exp - b->now(), left, sizeof(left));
	}
	dur_format(grant, max, sizeof(max));
	out = page_start("a held call");
	if (out == NULL) {
		cJSON_Delete(v);
		message_page("error", "internal error", 500, resp);
		return;
	}
	if (note != NULL) {
		buf_putf(out, "<p role=\"alert\">");
		esc(out, note);
		buf_putf(out, "</p>\n");
	}
	buf_putf(out, "<table>\n");
	row(out, "Caller", cJSON_GetStringValue(cJSON_GetObjectItem(v, "caller")));
	row(out, "Tool", cJSON_GetStringValue(cJSON_GetObjectItem(v, "tool")));
	row(out, "Host", cJSON_GetStringValue(cJSON_GetObjectItem(v, "host")));
	row(out, "Login", cJSON_GetStringValue(cJSON_GetObjectItem(v, "login")));
	if (cJSON_GetObjectItem(v, "command") != NULL) {
		row(out, "Command", cJSON_GetStringValue(cJSON_GetObjectItem(v, "command")));
	} else {
		char *args = json_print(cJSON_GetObjectItem(v, "arguments"));

		row(out, "Arguments", args != NULL ? args : "?");
		free(args);
	}
	row(out, "Rule", cJSON_GetStringValue(cJSON_GetObjectItem(v, "rule")));
	row(out, "Needs", cJSON_GetStringValue(cJSON_GetObjectItem(v, "needs")));
	row(out, "State", state);
	if (left[0] != '\0' && r == 0) {
		row(out, "Time left", left);
	}
	buf_putf(out, "</table>\n");
	if (r == 0 && answer != NULL && strcmp(answer, "none") != 0) {
		brk_websession_csrf(b, "session", who->token_hash, csrf);
		buf_putf(out, "<form method=\"post\" action=\"%s%s\">\n"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
		    "<p><label>Your one-time code <input name=\"otp\" inputmode=\"numeric\" "
		    "autocomplete=\"one-time-code\"></label></p>\n", BRK_WEB_PREFIX, id, csrf);
		if (strcmp(answer, "approve") == 0) {
			buf_putf(out, "<p><label>Grant the same request for (optional, at most %s) "
			    "<input name=\"for\" placeholder=\"15m\"></label></p>\n", max);
		}
		buf_putf(out, "<p><label>Reason (for a denial) <input name=\"reason\"></label></p>\n"
		    "<p><button type=\"submit\" name=\"action\" value=\"approve\">%s</button>\n"
		    "<button type=\"submit\" name=\"action\" value=\"deny\">Deny</button></p>\n"
		    "</form>\n", strcmp(answer, "approve") == 0 ? "Approve" : "Step up and run");
	} else if (r == 0) {
		buf_putf(out, "<p>This call waits for someone else.</p>\n");
	}
	cJSON_Delete(v);
	page_end(out, status, resp);
}

static void answer(struct brk *b, const struct brk_req *req, const struct brk_identity *who,
    const char *id, struct brk_resp *resp)
{
	const char *action = brk_form_get(req->form, "action");
	struct brk_resp ar;
	cJSON *body;
	int approve;

	if (!csrf_ok(b, req, "session", who->token_hash)) {
		call_page(b, who, id, "the form expired or did not come from this page; nothing "
		    "was answered", 403, resp);
		return;
	}
	if (action == NULL || (strcmp(action, "approve") != 0 && strcmp(action, "deny") != 0)) {
		call_page(b, who, id, "choose approve or deny", 400, resp);
		return;
	}
	approve = strcmp(action, "approve") == 0;
	if ((body = cJSON_CreateObject()) == NULL) {
		message_page("error", "internal error", 500, resp);
		return;
	}
	cJSON_AddStringToObject(body, "id", id);
	for (size_t i = 0; i < req->form->n; i++) {
		const char *k = req->form->key[i];

		if ((approve && (strcmp(k, "otp") == 0 || (strcmp(k, "for") == 0 &&
		    req->form->value[i][0] != '\0'))) ||
		    (!approve && strcmp(k, "reason") == 0 && req->form->value[i][0] != '\0')) {
			cJSON_AddStringToObject(body, k, req->form->value[i]);
		}
	}
	memset(&ar, 0, sizeof(ar));
	if (approve) {
		brk_approvals_approve(b, req, who, body, &ar);
	} else {
		brk_approvals_deny(b, req, who, body, &ar);
	}
	json_delete_wiped(body);
	if (ar.status == 200) {
		message_page(approve ? "approved" : "denied", approve ? "Done: the call goes on. "
		    "You can close this page." : "Denied: the call fails and nothing runs.", 200,
		    resp);
	} else {
		call_page(b, who, id, error_of(&ar), ar.status, resp);
		resp->retry_after = ar.retry_after;
	}
	brk_resp_clear(&ar);
}

void brk_web_handle(struct brk *b, const struct brk_req *req, struct brk_resp *resp)
{
	char id[STORE_APPROVAL_ID_LEN + 1];
	struct brk_identity who;
	struct brk_resp ir;
	int is_login = 0, get = strcmp(req->method, "GET") == 0, authed;

	memset(resp, 0, sizeof(*resp));
	if (brk_web_route(req->path, id, &is_login) != 0) {
		message_page("not found", "There is no such page.", 404, resp);
		return;
	}
	if (!get && strcmp(req->method, "POST") != 0) {
		message_page("method not allowed", "Use the page's forms.", 405, resp);
		return;
	}
	if (!get && (req->form == NULL || req->form->bad)) {
		message_page("bad form", "The form could not be read (too long, or not a form).",
		    400, resp);
		return;
	}
	if (is_login) {
		if (get) {
			login_page(b, req, id, NULL, 200, resp);
		} else {
			login(b, req, id, resp);
		}
		return;
	}
	memset(&ir, 0, sizeof(ir));
	authed = brk_identity_from_cookie(b, req, req->cookie_session, &who, &ir) == 0;
	if (authed && who.kind != STORE_USER) {
		authed = 0;
	}
	if (!authed) {
		login_page(b, req, id, req->cookie_session != NULL ? "your web session ended; "
		    "sign in again" : NULL, 200, resp);
		resp->retry_after = ir.retry_after;
	} else if (get) {
		call_page(b, &who, id, NULL, 200, resp);
	} else {
		answer(b, req, &who, id, resp);
	}
	brk_resp_clear(&ir);
	snprintf(resp->actor, sizeof(resp->actor), "%s", authed ? who.actor : "");
}
