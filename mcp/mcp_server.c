/*
 * mcp_server.c - what an MCP server offers: the registry of tools, prompts,
 * resource providers and the completion hook, filled at start-up and read
 * without locks afterwards, and the fan-out of resource updates to the
 * sessions subscribed to a URI.
 *
 * Schemas and annotations are parsed once at registration (with the same
 * bounds as a message), so a typo in a built-in tool fails start-up
 * instead of every tools/list, and are sent verbatim afterwards: JSON
 * Schema 2020-12 keywords ($schema, $defs, additionalProperties) survive.
 *
 * The server must outlive its sessions: free it after the last session was
 * unreferenced.
 */
#include "mcp/mcp.h"

#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "mcp/mcp_int.h"

const char *const mcp_session_versions[] = { MCP_PROTOCOL_LATEST, "2025-06-18", "2025-03-26" };
const size_t mcp_session_nversions = sizeof(mcp_session_versions) /
    sizeof(mcp_session_versions[0]);

int mcp_protocol_supported(const char *version)
{
	size_t i;

	if (version == NULL) {
		return 0;
	}
	for (i = 0; i < mcp_session_nversions; i++) {
		if (strcmp(version, mcp_session_versions[i]) == 0) {
			return 1;
		}
	}
	return 0;
}

/* strdup that maps NULL to NULL; *ok is cleared on ENOMEM. */
static char *dup_opt(const char *s, int *ok)
{
	char *d = NULL;

	if (s == NULL) {
		return NULL;
	}
	if ((d = strdup(s)) == NULL) {
		*ok = 0;
	}
	return d;
}

/* Parses optional JSON text that must be an object (or, with want_array,
 * an array) into *out. 0, ZT_ERR_INVALID or ZT_ERR_NOMEM. */
static int parse_opt(const char *text, int want_array, cJSON **out)
{
	cJSON *v = NULL;
	int r;

	*out = NULL;
	if (text == NULL) {
		return 0;
	}
	r = json_parse(text, strlen(text), MCP_MSG_MAX, MCP_JSON_DEPTH, &v);
	if (r == ZT_ERR_NOMEM) {
		return r;
	}
	if (r != 0 || (want_array ? !cJSON_IsArray(v) : !cJSON_IsObject(v))) {
		cJSON_Delete(v);
		return ZT_ERR_INVALID;
	}
	*out = v;
	return 0;
}

struct mcp_server *mcp_server_new(const char *name, const char *version,
    const char *instructions)
{
	struct mcp_server *srv = NULL;
	int ok = 1;

	if (name == NULL || version == NULL) {
		return NULL;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		return NULL;
	}
	if (pthread_mutex_init(&srv->lock, NULL) != 0) {
		free(srv);
		return NULL;
	}
	if (pthread_mutex_init(&srv->task_lock, NULL) != 0) {
		pthread_mutex_destroy(&srv->lock);
		free(srv);
		return NULL;
	}
	if (pthread_cond_init(&srv->task_cond, NULL) != 0) {
		pthread_mutex_destroy(&srv->task_lock);
		pthread_mutex_destroy(&srv->lock);
		free(srv);
		return NULL;
	}
	srv->page_size = MCP_PAGE_DEFAULT;
	srv->state_ttl = MCP_STATE_TTL_DEFAULT;
	if (crypto_random(srv->state_key, sizeof(srv->state_key)) != 0) {
		ok = 0;
	}
	srv->name = dup_opt(name, &ok);
	srv->version = dup_opt(version, &ok);
	srv->instructions = dup_opt(instructions, &ok);
	if (!ok) {
		mcp_server_free(srv);
		return NULL;
	}
	return srv;
}

static void tool_clear(struct mcp_srv_tool *t)
{
	free(t->name);
	free(t->title);
	free(t->description);
	cJSON_Delete(t->input_schema);
	cJSON_Delete(t->output_schema);
	cJSON_Delete(t->annotations);
	cJSON_Delete(t->requires);
	memset(t, 0, sizeof(*t));
}

static void prompt_clear(struct mcp_srv_prompt *p)
{
	free(p->name);
	free(p->title);
	free(p->description);
	cJSON_Delete(p->arguments);
	memset(p, 0, sizeof(*p));
}

void mcp_server_free(struct mcp_server *srv)
{
	size_t i;

	if (srv == NULL) {
		return;
	}
	mcp_server_tasks_stop(srv);
	if (srv->sessions != NULL) {
		log_error("mcp: server freed while sessions still exist");
	}
	for (i = 0; i < srv->ntools; i++) {
		tool_clear(&srv->tools[i]);
	}
	for (i = 0; i < srv->nprompts; i++) {
		prompt_clear(&srv->prompts[i]);
	}
	free(srv->tools);
	free(srv->prompts);
	free(srv->providers);
	free(srv->name);
	free(srv->version);
	free(srv->instructions);
	crypto_wipe(srv->state_key, sizeof(srv->state_key));
	pthread_cond_destroy(&srv->task_cond);
	pthread_mutex_destroy(&srv->task_lock);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

/* A name fit for a tool or prompt: 1..MCP_NAME_MAX bytes. */
static int name_ok(const char *name)
{
	size_t n;

	if (name == NULL) {
		return 0;
	}
	n = strlen(name);
	return n > 0 && n <= MCP_NAME_MAX;
}

int mcp_server_add_tool(struct mcp_server *srv, const struct mcp_tool *t)
{
	struct mcp_srv_tool nt, *grown = NULL;
	int r, ok = 1;

	memset(&nt, 0, sizeof(nt));
	if (srv == NULL || t == NULL || !name_ok(t->name) || t->handler == NULL ||
	    t->input_schema == NULL) {
		return ZT_ERR_INVALID;
	}
	if (mcp_server_tool(srv, t->name) != NULL) {
		return ZT_ERR_EXISTS;
	}
	if ((r = parse_opt(t->input_schema, 0, &nt.input_schema)) != 0 ||
	    (r = parse_opt(t->output_schema, 0, &nt.output_schema)) != 0 ||
	    (r = parse_opt(t->annotations, 0, &nt.annotations)) != 0 ||
	    (r = parse_opt(t->requires, 0, &nt.requires)) != 0) {
		goto out;
	}
	nt.name = dup_opt(t->name, &ok);
	nt.title = dup_opt(t->title, &ok);
	nt.description = dup_opt(t->description, &ok);
	if (!ok) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	nt.visible = t->visible;
	nt.task_support = t->task_support;
	nt.before_task = t->before_task;
	nt.handler = t->handler;
	nt.arg = t->arg;
	if ((grown = realloc(srv->tools, (srv->ntools + 1) * sizeof(*grown))) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	srv->tools = grown;
	srv->tools[srv->ntools++] = nt;
	memset(&nt, 0, sizeof(nt));
	r = 0;
out:
	tool_clear(&nt);
	return r;
}

const struct mcp_srv_tool *mcp_server_tool(const struct mcp_server *srv, const char *name)
{
	for (size_t i = 0; i < srv->ntools; i++) {
		if (strcmp(srv->tools[i].name, name) == 0) {
			return &srv->tools[i];
		}
	}
	return NULL;
}

int mcp_tool_visible(const struct mcp_srv_tool *t, const struct mcp_identity *who)
{
	return t->visible == NULL || t->visible(who, t->arg) > 0;
}

int mcp_server_tool_refused(struct mcp_server *srv, const struct mcp_identity *who,
    const char *name)
{
	const struct mcp_srv_tool *t = NULL;

	if (srv == NULL || who == NULL || name == NULL) {
		return 1;
	}
	t = mcp_server_tool(srv, name);
	return t == NULL || !mcp_tool_visible(t, who);
}

void mcp_server_set_state_key(struct mcp_server *srv, const uint8_t key[32])
{
	if (srv != NULL && key != NULL) {
		memcpy(srv->state_key, key, sizeof(srv->state_key));
	}
}

void mcp_server_set_state_ttl(struct mcp_server *srv, int ttl_s)
{
	if (srv != NULL && ttl_s > 0) {
		srv->state_ttl = ttl_s;
	}
}

void mcp_server_set_refused_state(struct mcp_server *srv, mcp_refused_state_fn fn, void *arg)
{
	if (srv != NULL) {
		srv->refused_state = fn;
		srv->refused_state_arg = arg;
	}
}

void mcp_server_set_cache(struct mcp_server *srv, int64_t ttl_ms, int public_scope)
{
	if (srv != NULL && ttl_ms >= 0) {
		srv->cache_ttl_ms = ttl_ms;
		srv->cache_public = public_scope != 0;
	}
}

int mcp_server_add_resources(struct mcp_server *srv, const struct mcp_resource_provider *p)
{
	struct mcp_resource_provider *grown = NULL;

	if (srv == NULL || p == NULL || p->list == NULL || p->read == NULL) {
		return ZT_ERR_INVALID;
	}
	if ((grown = realloc(srv->providers, (srv->nproviders + 1) * sizeof(*grown))) == NULL) {
		return ZT_ERR_NOMEM;
	}
	srv->providers = grown;
	srv->providers[srv->nproviders++] = *p;
	return 0;
}

int mcp_server_add_prompt(struct mcp_server *srv, const struct mcp_prompt *p)
{
	struct mcp_srv_prompt np, *grown = NULL;
	size_t i;
	int r, ok = 1;

	memset(&np, 0, sizeof(np));
	if (srv == NULL || p == NULL || !name_ok(p->name) || p->get == NULL) {
		return ZT_ERR_INVALID;
	}
	for (i = 0; i < srv->nprompts; i++) {
		if (strcmp(srv->prompts[i].name, p->name) == 0) {
			return ZT_ERR_EXISTS;
		}
	}
	if ((r = parse_opt(p->arguments, 1, &np.arguments)) != 0) {
		goto out;
	}
	np.name = dup_opt(p->name, &ok);
	np.title = dup_opt(p->title, &ok);
	np.description = dup_opt(p->description, &ok);
	if (!ok) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	np.get = p->get;
	np.arg = p->arg;
	if ((grown = realloc(srv->prompts, (srv->nprompts + 1) * sizeof(*grown))) == NULL) {
		r = ZT_ERR_NOMEM;
		goto out;
	}
	srv->prompts = grown;
	srv->prompts[srv->nprompts++] = np;
	memset(&np, 0, sizeof(np));
	r = 0;
out:
	prompt_clear(&np);
	return r;
}

void mcp_server_set_completion(struct mcp_server *srv, mcp_complete_fn fn, void *arg)
{
	if (srv == NULL) {
		return;
	}
	srv->complete = fn;
	srv->complete_arg = arg;
}

void mcp_server_set_refused_tool(struct mcp_server *srv, mcp_refused_tool_fn fn, void *arg)
{
	if (srv == NULL) {
		return;
	}
	srv->refused_tool = fn;
	srv->refused_tool_arg = arg;
}

void mcp_server_set_page_size(struct mcp_server *srv, size_t n)
{
	if (srv == NULL) {
		return;
	}
	srv->page_size = n == 0 ? MCP_PAGE_DEFAULT : n;
}

/* 1 if s subscribed to uri; under s->lock. */
static int session_subscribed(const struct mcp_session *s, const char *uri)
{
	size_t i;

	for (i = 0; i < s->nsubs; i++) {
		if (strcmp(s->subs[i], uri) == 0) {
			return 1;
		}
	}
	return 0;
}

/* Which sessions a notification goes to; under s->lock. */
struct notice {
	const char *uri;       /* resources/updated: subscribed to it */
	int tools;             /* tools/list_changed */
};

static int notice_for(const struct mcp_session *s, const struct notice *nt)
{
	if (nt->uri != NULL) {
		return session_subscribed(s, nt->uri);
	}
	/* A session of the old era once initialized; a stateless one only on
	 * a subscriptions/listen stream that asked for it. */
	return s->listen_id != NULL ? s->listen_tools : !s->stateless && s->initialized;
}

/* Sends method with params (taken) to the standalone stream of every
 * session nt picks; a subscriptions/listen stream's copy carries its
 * subscription id in params._meta. */
static void notify_sessions(struct mcp_server *srv, const struct notice *nt, const char *method,
    cJSON *params)
{
	struct mcp_session *s = NULL, **hit = NULL, **grown = NULL;
	cJSON *tagged = NULL, *meta = NULL;
	char *json = NULL, *one = NULL;
	size_t n = 0, cap = 0, i;

	/* Collect references under the lock, send without it: a slow client
	 * must not hold up the others or the creation of sessions. */
	pthread_mutex_lock(&srv->lock);
	for (s = srv->sessions; s != NULL; s = s->next) {
		pthread_mutex_lock(&s->lock);
		/* refs == 0: the session is on its way out. */
		if (s->refs > 0 && !s->closed && notice_for(s, nt)) {
			if (n == cap) {
				cap = cap == 0 ? 8 : cap * 2;
				if ((grown = realloc(hit, cap * sizeof(*hit))) == NULL) {
					pthread_mutex_unlock(&s->lock);
					break;
				}
				hit = grown;
			}
			s->refs++;
			hit[n++] = s;
		}
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&srv->lock);
	if (n == 0 || params == NULL) {
		goto out;
	}
	json = mcp_notification_json(method, cJSON_Duplicate(params, 1));
	for (i = 0; json != NULL && i < n; i++) {
		/* listen_id is set once, before the stream is; it stays. */
		if (hit[i]->listen_id == NULL) {
			mcp_session_stream_send(hit[i], json);
			continue;
		}
		if ((tagged = cJSON_Duplicate(params, 1)) == NULL ||
		    (meta = cJSON_AddObjectToObject(tagged, "_meta")) == NULL) {
			cJSON_Delete(tagged);
			continue;
		}
		cJSON_AddItemToObject(meta, "io.modelcontextprotocol/subscriptionId",
		    mcp_id_dup(hit[i]->listen_id));
		if ((one = mcp_notification_json(method, tagged)) != NULL) {
			mcp_session_stream_send(hit[i], one);
			free(one);
		}
	}
out:
	for (i = 0; i < n; i++) {
		mcp_session_unref(hit[i]);
	}
	free(hit);
	free(json);
	cJSON_Delete(params);
}

void mcp_server_resource_updated(struct mcp_server *srv, const char *uri)
{
	struct notice nt = { uri, 0 };
	cJSON *params = NULL;

	if (srv == NULL || uri == NULL) {
		return;
	}
	if ((params = cJSON_CreateObject()) != NULL &&
	    cJSON_AddStringToObject(params, "uri", uri) == NULL) {
		cJSON_Delete(params);
		params = NULL;
	}
	notify_sessions(srv, &nt, "notifications/resources/updated", params);
}

void mcp_server_tools_changed(struct mcp_server *srv)
{
	struct notice nt = { NULL, 1 };

	if (srv != NULL) {
		notify_sessions(srv, &nt, "notifications/tools/list_changed", cJSON_CreateObject());
	}
}
