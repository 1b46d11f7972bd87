/*
 * brk_tools.c - the tool table: every MCP tool of the broker that the gate
 * runs (brk_gate.h), and the two small ones that live here, whoami and
 * list_hosts. A new tool is a new entry: its schemas, its flags, a parse
 * and a run.
 */
#include "broker/brk_gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk.h"
#include "broker/brk_api.h"
#include "broker/brk_files.h"
#include "broker/brk_front.h"
#include "broker/brk_fwd.h"
#include "broker/brk_hosts.h"
#include "broker/brk_jobs.h"
#include "broker/brk_rdp.h"
#include "broker/brk_sshexec.h"
#include "broker/brk_term.h"
#include "common/err.h"
#include "mcp/mcp.h"

/* ---- whoami ---- */

static int whoami_run(struct brk_call *c, cJSON **result)
{
	const struct brk_identity *who = &c->who;
	cJSON *sc = cJSON_CreateObject();
	char text[STORE_ROLES_MAX + 128];

	*result = mcp_result_new(0);
	if (sc == NULL || *result == NULL) {
		cJSON_Delete(sc);
		return ZT_ERR_NOMEM;
	}
	cJSON_AddStringToObject(sc, "kind", brk_identity_kind(who));
	cJSON_AddStringToObject(sc, "name", who->name);
	cJSON_AddItemToObject(sc, "roles", brk_roles_json(who->roles));
	snprintf(text, sizeof(text), "%s %s (roles: %s)", brk_identity_kind(who), who->name,
	    who->roles[0] != '\0' ? who->roles : "none");
	mcp_result_add_text(*result, text);
	cJSON_AddItemToObject(*result, "structuredContent", sc);
	return 0;
}

/* ---- list_hosts ---- */

static int list_hosts_run(struct brk_call *c, cJSON **result)
{
	struct pol_decision dec;
	cJSON *hosts = NULL, *sc;
	char *text;
	int r;

	r = brk_hosts_visible(c->b, c->who.roles, NULL, &hosts, &dec);
	if (r == ZT_ERR_DENIED) {
		/* The roles changed between the decision and now. */
		c->failed = 1;
		cJSON_AddStringToObject(c->outcome, "error", dec.rule);
		*result = mcp_result_error("%s", dec.rule);
		return *result != NULL ? 0 : ZT_ERR_NOMEM;
	}
	if (r != 0) {
		return r;
	}
	cJSON_AddNumberToObject(c->outcome, "hosts", cJSON_GetArraySize(hosts));
	*result = mcp_result_new(0);
	sc = cJSON_AddObjectToObject(*result, "structuredContent");
	text = cJSON_PrintUnformatted(hosts);
	mcp_result_add_text(*result, text != NULL ? text : "[]");
	free(text);
	cJSON_AddItemToObject(sc, "hosts", hosts);
	return 0;
}

/* ---- the table ---- */

/* The arguments and the result fields every file tool shares. */
#define FILE_TARGET "\"host\":{\"type\":\"string\",\"description\":\"the host's name\"}," \
	"\"login\":{\"type\":\"string\",\"description\":\"the account to act as\"}," \
	"\"path\":{\"type\":\"string\",\"description\":\"an absolute path, without '..' " \
	"segments\"}"
#define FILE_OUT "\"path\":{\"type\":\"string\"},\"resolved\":{\"type\":\"string\"}," \
	"\"kind\":{\"type\":\"string\"},\"size\":{\"type\":\"integer\"}," \
	"\"mode\":{\"type\":\"string\"},\"mtime\":{\"type\":\"integer\"}"
/* How the bytes travel (brk_xfer.h), and the link when not inline. */
#define FILE_TRANSFER "\"transfer\":{\"type\":\"string\",\"enum\":[\"inline\",\"link\"]," \
	"\"description\":\"inline (default): the bytes in the call; link: a one-time HTTPS " \
	"link for them\"}"
#define FILE_LINK "\"link\":{\"type\":\"object\",\"properties\":{" \
	"\"url\":{\"type\":\"string\"},\"method\":{\"type\":\"string\"}," \
	"\"expires_in_s\":{\"type\":\"integer\"}},\"required\":[\"url\",\"method\"," \
	"\"expires_in_s\"]}"

/* The arguments and results every desktop tool shares (brk_rdp.h). */
#define RDP_HOST "\"host\":{\"type\":\"string\",\"description\":\"the desktop's name " \
	"(list_hosts: kind rdp)\"}"
#define RDP_XY "\"x\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"in the " \
	"pixels of the last screenshot\"},\"y\":{\"type\":\"integer\",\"minimum\":0}"
#define RDP_AFTER "\"screenshot\":{\"type\":\"boolean\",\"description\":\"return a " \
	"screenshot taken after the input (saves a call)\"},\"max_width\":{\"type\":" \
	"\"integer\",\"minimum\":64,\"description\":\"scale the screenshot down to at most " \
	"this width\"}"
#define RDP_BUTTON "\"button\":{\"type\":\"string\",\"enum\":[\"left\",\"right\"," \
	"\"middle\"]}"
#define RDP_OUT "{\"type\":\"object\",\"properties\":{\"width\":{\"type\":\"integer\"}," \
	"\"height\":{\"type\":\"integer\"},\"scale\":{\"type\":\"number\"}," \
	"\"sha256\":{\"type\":\"string\"},\"events\":{\"type\":\"integer\"," \
	"\"description\":\"input events the desktop took\"}}}"
#define RDP_INPUT_ANN "{\"readOnlyHint\":false,\"destructiveHint\":true," \
	"\"openWorldHint\":false}"
/* One desktop input tool's entry. */
#define RDP_TOOL(nm, ttl, desc, props, req) { \
		.name = nm, .title = ttl, .description = desc, \
		.input_schema = "{\"type\":\"object\",\"properties\":{" RDP_HOST "," props "," \
		    RDP_AFTER "},\"required\":[\"host\"" req "],\"additionalProperties\":false}", \
		.output_schema = RDP_OUT, .annotations = RDP_INPUT_ANN, .flags = BRK_TOOL_HOST, \
		.parse = brk_rdp_parse, .run = brk_rdp_run, \
	}

/* The arguments of a terminal's call (brk_term.h). */
#define TERM_SCHEMA "{\"type\":\"object\",\"properties\":{" \
	"\"host\":{\"type\":\"string\"},\"login\":{\"type\":\"string\"}," \
	"\"command\":{\"type\":\"string\"}},\"required\":[\"host\",\"login\"]}"

static const struct brk_tool table[] = {
	{
		.name = "whoami",
		.title = "Who am I",
		.description = "Returns the identity zt authenticated for this connection: kind "
		    "(user or bot), name and roles.",
		.input_schema = "{\"type\":\"object\",\"properties\":{},"
		    "\"additionalProperties\":false}",
		.output_schema = "{\"type\":\"object\",\"properties\":{"
		    "\"kind\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"
		    "\"roles\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
		    "\"required\":[\"kind\",\"name\",\"roles\"]}",
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":false}",
		.flags = BRK_TOOL_OPEN,
		.run = whoami_run,
	},
	{
		.name = BRK_HOSTS_TOOL,
		.title = "List hosts",
		.description = "Lists the hosts your roles let you see, with their labels and "
		    "whether their agent is online.",
		.input_schema = "{\"type\":\"object\",\"properties\":{},"
		    "\"additionalProperties\":false}",
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":false}",
		.run = list_hosts_run,
	},
	{
		.name = BRK_SSHEXEC_TOOL,
		.title = "Run a command over SSH",
		.description = "Runs one command on a host as a login, over SSH through the host's "
		    "zt agent, with a certificate made for this call alone. Your roles decide which "
		    "hosts, logins and commands you may use; list_hosts shows the hosts. Returns "
		    "exit_code, stdout and stderr (each capped at 1 MiB; truncated says if output "
		    "was cut). A non-zero exit code is a result, not an error. With background: "
		    "true the command runs on as a job and its id returns at once: follow it with "
		    "job_output, job_signal and job_list.",
		.input_schema = "{\"type\":\"object\",\"properties\":{"
		    "\"host\":{\"type\":\"string\",\"description\":\"the host's name\"},"
		    "\"login\":{\"type\":\"string\",\"description\":\"the account to run as\"},"
		    "\"command\":{\"type\":\"string\",\"description\":\"the command line, run by "
		    "the login's shell\"},"
		    "\"timeout_s\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"seconds "
		    "before the command is killed (default 60; a job: its role's max_job_duration)\"},"
		    "\"background\":{\"type\":\"boolean\",\"description\":\"run on as a job "
		    "and return its id at once\"}},"
		    "\"required\":[\"host\",\"login\",\"command\"],\"additionalProperties\":false}",
		.output_schema = "{\"type\":\"object\",\"properties\":{"
		    "\"exit_code\":{\"type\":\"integer\"},\"stdout\":{\"type\":\"string\"},"
		    "\"stderr\":{\"type\":\"string\"},\"truncated\":{\"type\":\"boolean\"},"
		    "\"duration_ms\":{\"type\":\"integer\"},\"job\":{\"type\":\"string\"},"
		    "\"state\":{\"type\":\"string\"}},"
		    "\"anyOf\":[{\"required\":[\"exit_code\",\"stdout\",\"stderr\","
		    "\"truncated\",\"duration_ms\"]},{\"required\":[\"job\",\"state\"]}]}",
		.annotations = "{\"readOnlyHint\":false,\"destructiveHint\":true,"
		    "\"idempotentHint\":false,\"openWorldHint\":true}",
		.flags = BRK_TOOL_HOST | BRK_TOOL_TASK,
		.parse = brk_sshexec_parse,
		.run = brk_sshexec_run,
	},
	{
		.name = "job_output",
		.title = "Read a job's output",
		.description = "Returns a background job's output from byte offset since (default 0) "
		    "and its state: running, exited (exit_code), killed (signal) or lost. Ask again "
		    "with since = next to get only what is new. stdout and stderr are merged; the "
		    "last 256 KiB are kept, and when older bytes are gone the output starts with a "
		    "\"[zt: N bytes dropped]\" line (dropped says N).",
		.input_schema = "{\"type\":\"object\",\"properties\":{"
		    "\"job\":{\"type\":\"string\",\"description\":\"the job id\"},"
		    "\"since\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"byte "
		    "offset in the job's output: next of the last job_output\"}},"
		    "\"required\":[\"job\"],\"additionalProperties\":false}",
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":false}",
		.flags = BRK_TOOL_HOST,
		.parse = brk_jobs_output_parse,
		.run = brk_jobs_output_run,
	},
	{
		.name = "job_signal",
		.title = "Signal a job",
		.description = "Sends TERM, INT, KILL or HUP to a background job's command (its "
		    "process group) and returns its state, waiting up to 2 s for it to end.",
		.input_schema = "{\"type\":\"object\",\"properties\":{"
		    "\"job\":{\"type\":\"string\",\"description\":\"the job id\"},"
		    "\"signal\":{\"type\":\"string\",\"enum\":[\"TERM\",\"INT\",\"KILL\","
		    "\"HUP\"]}},\"required\":[\"job\",\"signal\"],\"additionalProperties\":false}",
		.annotations = "{\"readOnlyHint\":false,\"destructiveHint\":true,"
		    "\"idempotentHint\":false,\"openWorldHint\":true}",
		.flags = BRK_TOOL_HOST,
		.parse = brk_jobs_signal_parse,
		.run = brk_jobs_signal_run,
	},
	{
		.name = "job_list",
		.title = "List your jobs",
		.description = "Lists your background jobs, running and recently ended, with their "
		    "host, login, command and state.",
		.input_schema = "{\"type\":\"object\",\"properties\":{},"
		    "\"additionalProperties\":false}",
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":false}",
		.run = brk_jobs_list_run,
	},
	{
		.name = "file_read",
		.title = "Read a file",
		.description = "Reads a file on a host as a login, over SFTP through the host's zt "
		    "agent. Text comes back as text, anything else as base64 (an image as an image). "
		    "length bytes from offset (default 256 KiB, at most the broker's limit); more says "
		    "whether bytes remain. Your roles decide the hosts, logins and paths (checked on "
		    "the path as the host resolves it, links followed). transfer \"link\" returns "
		    "no bytes but a one-time HTTPS link (resource_link) to GET them with the same "
		    "bearer token within 60 s: any length, at the speed of scp.",
		.input_schema = "{\"type\":\"object\",\"properties\":{" FILE_TARGET ","
		    "\"offset\":{\"type\":\"integer\",\"minimum\":0},"
		    "\"length\":{\"type\":\"integer\",\"minimum\":1}," FILE_TRANSFER "},"
		    "\"required\":[\"host\",\"login\",\"path\"],\"additionalProperties\":false}",
		.output_schema = "{\"type\":\"object\",\"properties\":{" FILE_OUT ","
		    "\"offset\":{\"type\":\"integer\"},\"length\":{\"type\":\"integer\"},"
		    "\"more\":{\"type\":\"boolean\"},\"sha256\":{\"type\":\"string\"},"
		    "\"encoding\":{\"type\":\"string\"},\"mime_type\":{\"type\":\"string\"},"
		    FILE_LINK "},\"required\":[\"path\",\"resolved\",\"offset\",\"length\"]}",
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":true}",
		.flags = BRK_TOOL_HOST | BRK_TOOL_PATH | BRK_TOOL_TASK,
		.parse = brk_file_read_parse,
		.run = brk_file_read_run,
	},
	{
		.name = "file_write",
		.title = "Write a file",
		.description = "Writes a file on a host as a login, over SFTP: content (text) or "
		    "content_base64 (bytes), at most the broker's limit. The file is written to a "
		    "temporary name in the same directory and renamed over the target, so readers "
		    "see the old file or the new one, never a part; atomic says whether it took one "
		    "step (a host without posix-rename gets the old file moved aside first). append adds at the end in place (not atomic); "
		    "create_only fails if the target exists (and writes in place). mode "
		    "(\"0644\") applies to a new file; a replaced file keeps its mode unless given. "
		    "A symbolic link or a directory at the path is refused. transfer \"link\" "
		    "takes no content but returns a one-time HTTPS link (resource_link) to PUT the "
		    "bytes to with the same bearer token within 60 s: any size, written the same "
		    "way, answered with bytes and sha256.",
		.input_schema = "{\"type\":\"object\",\"properties\":{" FILE_TARGET ","
		    "\"content\":{\"type\":\"string\"},\"content_base64\":{\"type\":\"string\"},"
		    "\"mode\":{\"type\":\"string\",\"pattern\":\"^[0-7]{1,4}$\"},"
		    "\"append\":{\"type\":\"boolean\"},\"create_only\":{\"type\":\"boolean\"},"
		    FILE_TRANSFER "},"
		    "\"required\":[\"host\",\"login\",\"path\"],\"additionalProperties\":false}",
		.output_schema = "{\"type\":\"object\",\"properties\":{" FILE_OUT ","
		    "\"bytes\":{\"type\":\"integer\"},\"sha256\":{\"type\":\"string\"},"
		    "\"atomic\":{\"type\":\"boolean\"}," FILE_LINK "},"
		    "\"required\":[\"path\",\"resolved\"]}",
		.annotations = "{\"readOnlyHint\":false,\"destructiveHint\":true,"
		    "\"idempotentHint\":false,\"openWorldHint\":true}",
		.flags = BRK_TOOL_HOST | BRK_TOOL_PATH | BRK_TOOL_TASK,
		.parse = brk_file_write_parse,
		.run = brk_file_write_run,
	},
	{
		.name = "file_list",
		.title = "List a directory",
		.description = "Lists a directory on a host as a login, over SFTP: name, kind, size, "
		    "mode and mtime of each entry, in name order, at most limit (default 100, at most "
		    "1000); when more remain, pass the cursor it returns to go on. Entries your roles "
		    "deny are left out (hidden counts them).",
		.input_schema = "{\"type\":\"object\",\"properties\":{" FILE_TARGET ","
		    "\"cursor\":{\"type\":\"string\"},"
		    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000}},"
		    "\"required\":[\"host\",\"login\",\"path\"],\"additionalProperties\":false}",
		.output_schema = "{\"type\":\"object\",\"properties\":{" FILE_OUT ","
		    "\"entries\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
		    "\"more\":{\"type\":\"boolean\"},\"cursor\":{\"type\":\"string\"},"
		    "\"hidden\":{\"type\":\"integer\"}},"
		    "\"required\":[\"path\",\"resolved\",\"entries\",\"more\",\"hidden\"]}",
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":true}",
		.flags = BRK_TOOL_HOST | BRK_TOOL_PATH,
		.parse = brk_file_list_parse,
		.run = brk_file_list_run,
	},
	{
		.name = "file_stat",
		.title = "Describe a file",
		.description = "Kind, size, mode and mtime of a path on a host, as the host resolves "
		    "it (links followed; resolved names the path it found).",
		.input_schema = "{\"type\":\"object\",\"properties\":{" FILE_TARGET "},"
		    "\"required\":[\"host\",\"login\",\"path\"],\"additionalProperties\":false}",
		.output_schema = "{\"type\":\"object\",\"properties\":{" FILE_OUT "},"
		    "\"required\":[\"path\",\"resolved\",\"kind\"]}",
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":true}",
		.flags = BRK_TOOL_HOST | BRK_TOOL_PATH,
		.parse = brk_file_target_parse,
		.run = brk_file_stat_run,
	},
	{
		.name = "file_remove",
		.title = "Remove a file",
		.description = "Removes one file or symbolic link (the link itself, not what it "
		    "names) on a host as a login, over SFTP. Directories are refused.",
		.input_schema = "{\"type\":\"object\",\"properties\":{" FILE_TARGET "},"
		    "\"required\":[\"host\",\"login\",\"path\"],\"additionalProperties\":false}",
		.output_schema = "{\"type\":\"object\",\"properties\":{" FILE_OUT ","
		    "\"removed\":{\"type\":\"boolean\"}},"
		    "\"required\":[\"path\",\"resolved\",\"removed\"]}",
		.annotations = "{\"readOnlyHint\":false,\"destructiveHint\":true,"
		    "\"idempotentHint\":false,\"openWorldHint\":true}",
		.flags = BRK_TOOL_HOST | BRK_TOOL_PATH,
		.parse = brk_file_target_parse,
		.run = brk_file_remove_run,
	},
	/* A person's terminal (ztctl ssh, brk_term.h): the shell, and a
	 * command streamed, decided as ssh_exec is. Never offered over MCP. */
	{
		.name = BRK_TERM_SHELL_TOOL,
		.title = "Interactive shell over SSH",
		.description = "A person's terminal on a host (ztctl ssh), recorded.",
		.input_schema = TERM_SCHEMA,
		.flags = BRK_TOOL_HOST | BRK_TOOL_TERM,
		.parse = brk_term_parse,
		.run = brk_term_run,
	},
	{
		.name = BRK_SSHEXEC_TOOL,
		.title = "A command over SSH, streamed to a person's terminal",
		.description = "ztctl ssh HOST COMMAND: the command's output streamed as it comes.",
		.input_schema = TERM_SCHEMA,
		.flags = BRK_TOOL_HOST | BRK_TOOL_TERM,
		.parse = brk_term_parse,
		.run = brk_term_run,
	},
	{
		.name = POL_TOOL_PORT_FORWARD,
		.title = "A TCP connection forwarded through a host",
		.description = "ztctl ssh -L: one local connection relayed to an address as the "
		    "host sees it. Only a role with options.port_forwarding: true allows it.",
		.input_schema = "{\"type\":\"object\",\"properties\":{"
		    "\"host\":{\"type\":\"string\"},\"login\":{\"type\":\"string\"},"
		    "\"to_host\":{\"type\":\"string\"},\"to_port\":{\"type\":\"integer\"}},"
		    "\"required\":[\"host\",\"login\",\"to_host\",\"to_port\"]}",
		.flags = BRK_TOOL_HOST | BRK_TOOL_TERM,
		.parse = brk_fwd_parse,
		.run = brk_fwd_run,
	},
	{
		.name = "rdp_screenshot",
		.title = "Screenshot of a desktop",
		.description = "A PNG of a remote desktop (RDP) as it is now, through the desktop's "
		    "agent, which holds its credentials. Later rdp_* calls take coordinates in this "
		    "screenshot's pixels.",
		.input_schema = "{\"type\":\"object\",\"properties\":{" RDP_HOST ","
		    "\"max_width\":{\"type\":\"integer\",\"minimum\":64,\"description\":"
		    "\"scale down to at most this width\"}},\"required\":[\"host\"],"
		    "\"additionalProperties\":false}",
		.output_schema = RDP_OUT,
		.annotations = "{\"readOnlyHint\":true,\"openWorldHint\":false}",
		.flags = BRK_TOOL_HOST,
		.parse = brk_rdp_parse,
		.run = brk_rdp_run,
	},
	RDP_TOOL("rdp_click", "Click on a desktop", "Moves the pointer to x, y and clicks "
	    "(button left by default; double: true for a double click).",
	    RDP_XY "," RDP_BUTTON ",\"double\":{\"type\":\"boolean\"}", ",\"x\",\"y\""),
	RDP_TOOL("rdp_move", "Move the pointer on a desktop", "Moves the pointer to x, y.",
	    RDP_XY, ",\"x\",\"y\""),
	RDP_TOOL("rdp_drag", "Drag on a desktop", "Presses a button at x, y, moves to to_x, "
	    "to_y and releases it there.", RDP_XY ",\"to_x\":{\"type\":\"integer\","
	    "\"minimum\":0},\"to_y\":{\"type\":\"integer\",\"minimum\":0}," RDP_BUTTON,
	    ",\"x\",\"y\",\"to_x\",\"to_y\""),
	RDP_TOOL("rdp_scroll", "Scroll on a desktop", "Moves the pointer to x, y and turns the "
	    "wheel dy notches down (negative: up) and dx right.", RDP_XY ",\"dx\":{\"type\":"
	    "\"integer\"},\"dy\":{\"type\":\"integer\"}", ",\"x\",\"y\""),
	RDP_TOOL("rdp_type", "Type on a desktop", "Types text (Unicode; \\n is Return, \\t "
	    "Tab) into the focused window.", "\"text\":{\"type\":\"string\"}", ",\"text\""),
	RDP_TOOL("rdp_key", "Press keys on a desktop", "Presses a key combination, e.g. "
	    "ctrl+alt+del, Return, alt+F4, ctrl+c, super+l.",
	    "\"keys\":{\"type\":\"string\"}", ",\"keys\""),
};

#define NTOOLS (sizeof(table) / sizeof(table[0]))

/* What each MCP tool entry points to: the broker and its row. */
struct slot {
	struct brk *b;
	const struct brk_tool *t;
};

struct brk_tools {
	struct slot slots[NTOOLS];
};

static int handler(struct mcp_call *call, const cJSON *args, cJSON **result, void *arg)
{
	const struct slot *s = arg;
	struct brk_front f;

	brk_front_mcp(call, &f);
	return brk_gate_call(s->b, s->t, &f, args, result);
}

static int visible(const struct mcp_identity *who, void *arg)
{
	const struct slot *s = arg;

	return brk_gate_visible(s->b, s->t, who->roles);
}

struct brk_tools *brk_tools_new(struct brk *b)
{
	struct brk_tools *t = calloc(1, sizeof(*t));

	for (size_t i = 0; t != NULL && i < NTOOLS; i++) {
		t->slots[i].b = b;
		t->slots[i].t = &table[i];
	}
	return t;
}

void brk_tools_free(struct brk_tools *t)
{
	free(t);
}

/* 1 if the table has an entry named as its i-th before it. */
static int named_before(size_t i)
{
	for (size_t k = 0; k < i; k++) {
		if (strcmp(table[k].name, table[i].name) == 0) {
			return 1;
		}
	}
	return 0;
}

size_t brk_tools_pathless(const char **names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NTOOLS && n < max; i++) {
		if ((table[i].flags & BRK_TOOL_HOST) && !(table[i].flags & BRK_TOOL_PATH) &&
		    !named_before(i)) {
			names[n++] = table[i].name;
		}
	}
	return n;
}

/* The entry named name that is a terminal one (term 1) or not (0). */
static const struct brk_tool *find(const char *name, int term)
{
	for (size_t i = 0; i < NTOOLS; i++) {
		if (!!(table[i].flags & BRK_TOOL_TERM) == term && strcmp(table[i].name, name) == 0) {
			return &table[i];
		}
	}
	return NULL;
}

const struct brk_tool *brk_tools_term(const char *name)
{
	return find(name, 1);
}

const struct brk_tool *brk_tools_named(const char *name)
{
	return find(name, 0);
}

int brk_tools_register(struct brk_tools *t, struct mcp_server *srv)
{
	int r;

	for (size_t i = 0; i < NTOOLS; i++) {
		const struct brk_tool *e = &table[i];
		const struct mcp_tool m = {
			.name = e->name,
			.title = e->title,
			.description = e->description,
			.input_schema = e->input_schema,
			.output_schema = e->output_schema,
			.annotations = e->annotations,
			.visible = (e->flags & BRK_TOOL_OPEN) ? NULL : visible,
			.task_support = (e->flags & BRK_TOOL_TASK) ? MCP_TASK_OPTIONAL : MCP_TASK_NONE,
			.handler = handler,
			.arg = &t->slots[i],
		};

		if (e->flags & BRK_TOOL_TERM) {
			continue;
		}
		if ((r = mcp_server_add_tool(srv, &m)) != 0) {
			return r;
		}
	}
	return 0;
}
