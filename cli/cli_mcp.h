/*
 * cli_mcp.h - `ztctl mcp`, the stdio MCP server an AI client launches
 * ({"command": "ztctl", "args": ["mcp"]}), and `ztctl mcp config`.
 *
 * The shim holds no MCP logic of its own: it relays each newline-delimited
 * JSON-RPC message read on standard input to the broker's MCP endpoint
 * (POST https://BROKER/mcp, MCP Streamable HTTP 2025-11-25) as the user
 * logged in with `ztctl login`, and writes every message the broker sends
 * back, one compact JSON text per line, on standard output. Standard output
 * carries nothing else; logs go to standard error and never name the token.
 *
 * Errors the shim makes up itself (JSON-RPC error responses to the
 * client's request id):
 *   -32700 a line that is not JSON (id null)
 *   -32600 a line longer than CLI_MCP_LINE_MAX, or JSON that is not one
 *          message object (id null)
 *   CLI_MCP_ERR_LOGIN (-32010): no usable session: no profile, logged out,
 *          the session expired, or the broker refused the token (401). The
 *          message says which and gives the `ztctl login --broker ...
 *          --ca-pin ... --user ...` command to run. (-32000 and -32001 are
 *          avoided: the TypeScript SDK uses them for a closed connection
 *          and a request timeout, and the broker answers an unknown
 *          Mcp-Session-Id with -32001.)
 *   CLI_MCP_ERR_BROKER (-32000): the broker could not be reached, answered
 *          with something that is not MCP, or its stream ended before the
 *          response and could not be resumed.
 * An HTTP error from the broker that carries a JSON-RPC error (400, 404,
 * 406, 413, ...) is passed on with the request's id. Notifications and
 * responses that cannot be delivered are only logged.
 */
#ifndef ZT_CLI_MCP_H
#define ZT_CLI_MCP_H

#define CLI_MCP_LINE_MAX (4 * 1024 * 1024) /* bytes of one message, as the broker's limit */
#define CLI_MCP_ERR_LOGIN (-32010)
#define CLI_MCP_ERR_BROKER (-32000)
#define CLI_MCP_INFLIGHT_MAX 64  /* messages relayed at once; reading waits beyond */
#define CLI_MCP_DRAIN_MS 1500    /* from end of input to exit, at most (+ a DELETE) */

/*
 * Runs the shim on in_fd/out_fd with the profile in dir ($ZT_HOME) until
 * in_fd reaches its end: then ends the broker session (DELETE /mcp), waits
 * at most CLI_MCP_DRAIN_MS for relays still under way, and returns
 * CLI_EXIT_OK. If some relay is still stuck then (a broker that stopped
 * answering), the process exits at once with status 0 rather than wait.
 */
int cli_mcp_run(int in_fd, int out_fd, const char *dir);

/* `ztctl mcp [config]`: argv[0] is "mcp". Returns an exit code of
 * cli/cli_cmd_auth.h (CLI_EXIT_*). */
int cli_cmd_mcp(int argc, char **argv);

#endif
