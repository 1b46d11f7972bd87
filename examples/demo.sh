#!/usr/bin/env bash
# make demo: the whole chain on 127.0.0.1, everything under ./demo-run:
#   a real OpenSSH sshd that trusts only the broker's SSH user CA,
#   the broker (HTTPS + MCP on an ephemeral port, agent tunnel),
#   an admin user enrolled and logged in through ztctl (oathtool plays the
#     authenticator app), who mints the agent's join token with ztctl,
#   ztagent for host "demo-host", dialling out to the broker,
#   a bot "ai-assistant" with a read-only role (list_hosts only),
#   one MCP call, ssh_exec through `ztctl mcp`, as an AI client makes it,
#     then in the same session file_write and file_read over SFTP and a
#     background job read with job_output,
#   one call held for approval: the bot ai-ops runs uptime, the admin
#     approves it with `ztctl approve`,
#   the web console served at the broker's URL,
# then prints what to paste into an MCP client. Ctrl-C stops everything;
# DEMO_NO_WAIT=1 stops at once after the call.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/build
NODE=$ROOT/node_modules/.bin/node
DIR=$ROOT/demo-run
PASSWORD='demo password 123'
LOGIN=$(id -un)   # the local account sshd lets the certificate in as

rm -rf "$DIR"
mkdir -p "$DIR"
chmod 700 "$DIR"
export ZT_HOME=$DIR/home

PIDS=()
stop() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	SSHD_DIR=$DIR/sshd "$ROOT/tests/fixtures/sshd.sh" stop >/dev/null 2>&1 || true
	echo "stopped; everything is in $DIR"
}
trap stop EXIT
trap 'exit 0' INT TERM

# Waits up to 10 s for a line matching $2 in file $1 while pid $3 lives.
wait_for() {
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { cat "$1" "${1%.out}.log" 2>/dev/null; exit 1; }
		sleep 0.1
	done
	echo "demo: timed out waiting for '$2' in $1" >&2
	exit 1
}

# Prints what the structuredContent s of answer ID in FILE says, by the
# JavaScript expression EXPR (an error's text if the call failed).
show_sc() {
	grep "\"id\":$1," "$2" | "$NODE" -e '
		const r = JSON.parse(require("fs").readFileSync(0, "utf8")).result;
		if (r.isError) { console.log("   error:", r.content[0].text); process.exit(1); }
		const s = r.structuredContent;
		console.log("   " + ('"$3"'));'
}

# Prints the answer to the call with id 2 in MCP output file $1.
show_result() {
	grep '"id":2' "$1" | "$NODE" -e '
		const r = JSON.parse(require("fs").readFileSync(0, "utf8")).result;
		if (r.isError) { console.log("   error:", r.content[0].text); process.exit(1); }
		const s = r.structuredContent;
		console.log(`   exit code ${s.exit_code} in ${s.duration_ms} ms; stdout:`);
		process.stdout.write(s.stdout.replace(/^(?=.)/gm, "     "));'
}

echo "== broker"
"$B/ztbroker" serve --data-dir "$DIR/data" --listen 127.0.0.1:0 \
	--tunnel-listen 127.0.0.1:0 >"$DIR/broker.out" 2>"$DIR/broker.log" &
BROKER=$!
PIDS+=("$BROKER")
wait_for "$DIR/broker.out" '^CA pin:' "$BROKER"
URL=$(sed -n 's/^zt broker listening on //p' "$DIR/broker.out")
TUNNEL=$(sed -n 's/^agent tunnel listening on //p' "$DIR/broker.out")
PIN=$(sed -n 's/^CA pin: //p' "$DIR/broker.out")
echo "   $URL, agent tunnel $TUNNEL, CA pin $PIN"
admin() { "$B/ztbroker" admin --data-dir "$DIR/data" "$@"; }

echo "== sshd on 127.0.0.1, trusting only the broker's SSH user CA"
admin ca ssh-user-pub >"$DIR/user_ca.pub"
SSHD_PORT=$(SSHD_DIR=$DIR/sshd SSHD_PORT=0 SSHD_USER_CA=$DIR/user_ca.pub \
	"$ROOT/tests/fixtures/sshd.sh" start 2>/dev/null)
echo "   port $SSHD_PORT, log $DIR/sshd/sshd.log"

echo "== roles: admin (examples/roles/admin.yaml) and ai-readonly"
admin roles apply -f examples/roles/admin.yaml
cat >"$DIR/ai-readonly.yaml" <<'EOT'
# ai-readonly: an AI assistant may see the demo hosts and nothing more.
kind: role
name: ai-readonly
allow:
  hosts: {env: demo}
  tools: [list_hosts]
EOT
admin roles apply -f "$DIR/ai-readonly.yaml"

echo "== the admin user enrols and logs in with ztctl"
admin users add admin --roles admin >"$DIR/invite.txt"
INVITE=$(sed -n 's/^invite: //p' "$DIR/invite.txt")
# The authenticator: the previous step's code for enrolment, the current
# step's for login (each code works once).
code() { oathtool --totp -b --now "$(date -u -d "@$(($(date +%s) - $1))" '+%Y-%m-%d %H:%M:%S UTC')" "$SECRET"; }
mkfifo "$DIR/enroll.in"
"$B/ztctl" enroll --broker "$URL" --ca-pin "$PIN" --invite "$INVITE" --password-stdin \
	<"$DIR/enroll.in" >"$DIR/enroll.out" &
ENROLL=$!
exec 3>"$DIR/enroll.in"
echo "$PASSWORD" >&3
wait_for "$DIR/enroll.out" 'secret=' "$ENROLL"
SECRET=$(sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' "$DIR/enroll.out" | head -1)
code 30 >&3
exec 3>&-
wait "$ENROLL"
echo "$PASSWORD" | "$B/ztctl" login --broker "$URL" --ca-pin "$PIN" --user admin \
	--password-stdin --otp "$(code 0)"

echo "== the admin mints a join token (ztctl tokens add) and the agent joins"
"$B/ztctl" tokens add --ttl 10m >"$DIR/token.txt"
TOKEN=$(sed -n 's/^token: //p' "$DIR/token.txt")
ZT_JOIN_TOKEN=$TOKEN "$B/ztagent" --broker "$TUNNEL" --ca-pin "$PIN" \
	--data-dir "$DIR/agent" --name demo-host --labels env=demo,team=web \
	--ssh "127.0.0.1:$SSHD_PORT" --ssh-host-key "$DIR/sshd/ssh_host_ed25519_key.pub" \
	>"$DIR/agent.out" 2>"$DIR/agent.log" &
AGENT=$!
PIDS+=("$AGENT")
wait_for "$DIR/agent.log" 'connected to the broker' "$AGENT"
"$B/ztctl" ls

echo "== one MCP call through ztctl mcp: ssh_exec on demo-host as $LOGIN"
# The JSON-RPC an AI client sends, one message per line; the pipe stays
# open until the answer to the call (id 2) is back.
mkfifo "$DIR/mcp.in"
"$B/ztctl" mcp <"$DIR/mcp.in" >"$DIR/mcp.out" 2>"$DIR/mcp.log" &
MCP=$!
exec 4>"$DIR/mcp.in"
echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"demo","version":"1"}}}' >&4
wait_for "$DIR/mcp.out" '"id":1' "$MCP"
echo '{"jsonrpc":"2.0","method":"notifications/initialized"}' >&4
printf '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ssh_exec","arguments":{"host":"demo-host","login":"%s","command":"id -un; uname -sr"}}}\n' "$LOGIN" >&4
wait_for "$DIR/mcp.out" '"id":2' "$MCP"
show_result "$DIR/mcp.out"
grep -o 'Accepted certificate ID "[^"]*" (serial [0-9]*)' "$DIR/sshd/sshd.log" | tail -1 |
	sed 's/^/   sshd: /'

echo "== in the same session: file tools over SFTP, and a background job"
NOTE=$DIR/notes.txt
printf '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"file_write","arguments":{"host":"demo-host","login":"%s","path":"%s","content":"written by an AI, through zt\\n"}}}\n' "$LOGIN" "$NOTE" >&4
wait_for "$DIR/mcp.out" '"id":3' "$MCP"
show_sc 3 "$DIR/mcp.out" '`file_write ${s.resolved}: ${s.bytes} bytes, sha256 ${s.sha256.slice(0, 16)}..., atomic ${s.atomic}`'
printf '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"file_read","arguments":{"host":"demo-host","login":"%s","path":"%s"}}}\n' "$LOGIN" "$NOTE" >&4
wait_for "$DIR/mcp.out" '"id":4' "$MCP"
show_sc 4 "$DIR/mcp.out" '`file_read: ${JSON.stringify(r.content[0].text)} (${s.length} bytes, mode ${s.mode})`'
printf '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"ssh_exec","arguments":{"host":"demo-host","login":"%s","command":"for i in 1 2 3; do echo tick $i; sleep 1; done","background":true}}}\n' "$LOGIN" >&4
wait_for "$DIR/mcp.out" '"id":5' "$MCP"
show_sc 5 "$DIR/mcp.out" '`ssh_exec background: job ${s.job} ${s.state}, limit ${s.limit_s} s`'
JOB=$(grep '"id":5,' "$DIR/mcp.out" | "$NODE" -e '
	process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).result.structuredContent.job)')
sleep 5
printf '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"job_output","arguments":{"job":"%s"}}}\n' "$JOB" >&4
wait_for "$DIR/mcp.out" '"id":6' "$MCP"
show_sc 6 "$DIR/mcp.out" '`job_output: ${s.state}, exit code ${s.exit_code}; output ${JSON.stringify(s.output)}`'
exec 4>&-
wait "$MCP" || true

echo "== a person: ztctl ssh and ztctl cp, through the same gate and audit"
set +e
"$B/ztctl" ssh "$LOGIN@demo-host" 'echo "stdout of $(id -un)"; echo "stderr" >&2; exit 3' \
	2>&1 | sed 's/^/   /'
echo "   exit status ${PIPESTATUS[0]} (the remote one)"
set -e
"$B/ztctl" cp "$LOGIN@demo-host:$NOTE" "$DIR/notes.copy"
echo "   ztctl cp demo-host:$NOTE: $(cat "$DIR/notes.copy")"
echo "   a session with a terminal is recorded (ztctl ssh -t, as a shell is):"
"$B/ztctl" ssh -t "$LOGIN@demo-host" 'echo "recorded on $(tty)"' | sed 's/^/   /'
REC=$("$B/ztctl" recordings ls --json | "$NODE" -e '
	process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).recordings[0].id)')
echo "   ztctl play $REC:"
"$B/ztctl" play "$REC" --speed 10 | sed 's/^/   /'

echo "== a held call: the bot ai-ops runs uptime; its role wants an admin's approval"
cat >"$DIR/ai-ops.yaml" <<EOT
# ai-ops: a few read-only commands on the demo hosts, each approved by an
# admin with a fresh one-time code.
kind: role
name: ai-ops
allow:
  hosts: {env: demo}
  logins: [$LOGIN]
  tools: [ssh_exec]
  commands: ["uptime", "df -h", "systemctl status *"]
options:
  approval: {by: [admin], ttl: 10m}
EOT
admin roles apply -f "$DIR/ai-ops.yaml"
admin bots add ai-ops --roles ai-ops --ttl 1h >"$DIR/ai-ops.txt"
OPS_HOME=$DIR/ai-ops-home
mkdir -m 700 "$OPS_HOME"
(umask 077; printf '{"broker":"%s","ca_pin":"%s","user":"ai-ops","token":"%s","roles":["ai-ops"],"expires_at":%s}\n' \
	"$URL" "$PIN" "$(sed -n 's/^token: //p' "$DIR/ai-ops.txt")" "$(($(date +%s) + 3600))" \
	>"$OPS_HOME/profile.json")
mkfifo "$DIR/ops.in"
ZT_HOME=$OPS_HOME "$B/ztctl" mcp <"$DIR/ops.in" >"$DIR/ops.out" 2>"$DIR/ops.log" &
OPS=$!
exec 5>"$DIR/ops.in"
echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"demo-bot","version":"1"}}}' >&5
wait_for "$DIR/ops.out" '"id":1' "$OPS"
echo '{"jsonrpc":"2.0","method":"notifications/initialized"}' >&5
printf '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ssh_exec","arguments":{"host":"demo-host","login":"%s","command":"uptime"}}}\n' "$LOGIN" >&5
for _ in $(seq 50); do
	"$B/ztctl" approvals ls >"$DIR/approvals.txt"
	grep -q ' uptime$' "$DIR/approvals.txt" && break
	sleep 0.2
done
sed 's/^/   /' "$DIR/approvals.txt"
HELD=$(awk '/ uptime$/ {print $1; exit}' "$DIR/approvals.txt")
echo "   the admin approves it (ztctl approve $HELD, with the next one-time code):"
"$B/ztctl" approve "$HELD" --otp "$(code -30)" | sed 's/^/   /'
wait_for "$DIR/ops.out" '"id":2' "$OPS"
exec 5>&-
wait "$OPS" || true
show_result "$DIR/ops.out"

echo "== the bot ai-assistant (role ai-readonly)"
admin bots add ai-assistant --roles ai-readonly --ttl 12h >"$DIR/bot.txt"
BOT_TOKEN=$(sed -n 's/^token: //p' "$DIR/bot.txt")
cp "$DIR/data/tls-ca.crt" "$DIR/broker-ca.crt"

echo "== the audit log"
admin audit ls | tail -12
admin audit verify

echo "== the web console at $URL/"
"$NODE" -e '
	const [url, ca] = process.argv.slice(1);
	require("https").get(url, { ca: require("fs").readFileSync(ca) }, (r) => {
		const csp = r.headers["content-security-policy"] || "";
		console.log(`   HTTP ${r.statusCode}; Content-Security-Policy: ${csp.slice(0, 56)}...`);
		r.resume();
	}).on("error", (e) => { console.error(e.message); process.exit(1); });' "$URL/" "$DIR/broker-ca.crt"

cat <<EOT

== paste into an MCP client

As the admin user, over stdio (Claude Desktop, Claude Code, Cursor, ...):
  {"mcpServers": {"zt": {"command": "$B/ztctl", "args": ["mcp"],
                         "env": {"ZT_HOME": "$ZT_HOME"}}}}

As the bot ai-assistant, over Streamable HTTP (it may list hosts, not run
commands; trust the broker's CA $DIR/broker-ca.crt, e.g.
NODE_EXTRA_CA_CERTS for Node-based clients):
  {"mcpServers": {"zt-bot": {"type": "http", "url": "$URL/mcp",
                             "headers": {"Authorization": "Bearer $BOT_TOKEN"}}}}

The web console: open $URL/ in a browser that trusts $DIR/broker-ca.crt
(or accept its warning); sign in as admin, password "$PASSWORD", one-time
code from: oathtool --totp -b $SECRET

Running: broker $URL (log $DIR/broker.log), agent demo-host (log
$DIR/agent.log), sshd 127.0.0.1:$SSHD_PORT. Try:
  ZT_HOME=$ZT_HOME $B/ztctl ls
  ZT_HOME=$ZT_HOME $B/ztctl ssh $LOGIN@demo-host      (a recorded shell; ~. ends it)
  ZT_HOME=$ZT_HOME $B/ztctl recordings ls
  $B/ztbroker admin --data-dir $DIR/data audit ls
Ctrl-C stops everything.
EOT
[ "${DEMO_NO_WAIT:-}" = 1 ] && exit 0
wait "$BROKER"
