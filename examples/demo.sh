#!/usr/bin/env bash
# make demo: a broker on 127.0.0.1 with one enrolled user, logged in through
# ztctl, everything under ./demo-run. oathtool plays the user's
# authenticator app. Ctrl-C stops the broker. DEMO_NO_WAIT=1 exits at once.
set -euo pipefail
cd "$(dirname "$0")/.."
B=$PWD/build
DIR=$PWD/demo-run
PASSWORD='demo password 123'

rm -rf "$DIR"
mkdir -p "$DIR"
chmod 700 "$DIR"
export ZT_HOME=$DIR/home

"$B/ztbroker" serve --data-dir "$DIR/data" --listen 127.0.0.1:0 >"$DIR/broker.out" 2>"$DIR/broker.log" &
BROKER=$!
echo "$BROKER" >"$DIR/broker.pid"
stop() {
	kill "$BROKER" 2>/dev/null || true
	wait "$BROKER" 2>/dev/null || true
	echo "broker stopped; everything is in $DIR"
}
trap stop EXIT
trap 'exit 0' INT TERM

for _ in $(seq 100); do
	grep -q '^CA pin:' "$DIR/broker.out" 2>/dev/null && break
	kill -0 "$BROKER" 2>/dev/null || { cat "$DIR/broker.log"; exit 1; }
	sleep 0.1
done
URL=$(sed -n 's/^zt broker listening on //p' "$DIR/broker.out")
PIN=$(sed -n 's/^CA pin: //p' "$DIR/broker.out")
echo "== broker at $URL, CA pin $PIN"

echo "== admin adds user demo"
"$B/ztbroker" admin --data-dir "$DIR/data" users add demo --roles ops | tee "$DIR/invite.txt"
INVITE=$(sed -n 's/^invite: //p' "$DIR/invite.txt")

# The authenticator: codes of the previous step for enrolment, the current
# step for login (each code works once).
code() { oathtool --totp -b --now "$(date -u -d "@$(($(date +%s) - $1))" '+%Y-%m-%d %H:%M:%S UTC')" "$SECRET"; }

echo "== demo enrols with ztctl (password, then the first TOTP code)"
mkfifo "$DIR/enroll.in"
"$B/ztctl" enroll --broker "$URL" --ca-pin "$PIN" --invite "$INVITE" --password-stdin \
	<"$DIR/enroll.in" >"$DIR/enroll.out" &
ENROLL=$!
exec 3>"$DIR/enroll.in"
echo "$PASSWORD" >&3
for _ in $(seq 100); do
	SECRET=$(sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' "$DIR/enroll.out" | head -1)
	[ -n "$SECRET" ] && break
	sleep 0.1
done
code 30 >&3
exec 3>&-
wait "$ENROLL"
cat "$DIR/enroll.out"

echo "== demo logs in"
echo "$PASSWORD" | "$B/ztctl" login --broker "$URL" --ca-pin "$PIN" --user demo \
	--password-stdin --otp "$(code 0)"
"$B/ztctl" status

echo "== the audit log"
"$B/ztbroker" admin --data-dir "$DIR/data" audit ls
"$B/ztbroker" admin --data-dir "$DIR/data" audit verify

cat <<EOT

The broker keeps running at $URL (pid $BROKER, log $DIR/broker.log).
Try, in another terminal:
  ZT_HOME=$ZT_HOME $B/ztctl status
  $B/ztbroker admin --data-dir $DIR/data audit ls
Ctrl-C stops it.
EOT
[ "${DEMO_NO_WAIT:-}" = 1 ] && exit 0
wait "$BROKER"
