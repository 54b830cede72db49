#!/bin/bash
# Runs lifeline-relay on this machine with embedded defaults: an SQLite
# store and a self-signed certificate made on first start, in ./state (or
# $LL_STATE_DIR).  Prints the admin's one-time password, the relay URL and
# the certificate fingerprint, then serves until Ctrl-C.
#   LL_LISTEN (default 127.0.0.1:8443)
set -eu
cd "$(dirname "$0")/.."

state=${LL_STATE_DIR:-$PWD/state}
listen=${LL_LISTEN:-127.0.0.1:8443}
admin=${LL_ADMIN:-admin}

./scripts/deps.sh
echo "run: building (build-run/)"
if [ ! -f build-run/build.ninja ]; then
	meson setup build-run -Dbuildtype=release >/dev/null
fi
ninja -C build-run >/dev/null
relay=build-run/common/relay/lifeline-relay

if [ ! -e "$state/lifeline.db" ]; then
	echo "run: first start: creating $state"
	"$relay" init --state-dir "$state" >/dev/null
	password=$("$relay" technician add "$admin" --admin --state-dir "$state")
else
	# A new one-time password each start, so the operator is never locked out.
	password=$("$relay" technician passwd "$admin" --state-dir "$state")
fi
fingerprint=$(openssl x509 -noout -fingerprint -sha256 -in "$state/cert.pem" |
	sed 's/^.*=//')

applet=build-run/applet/lifeline-applet
agent=build-run/agent/lifeline-agent
url="https://$listen"

cat <<MSG

  Lifeline relay
  URL:          $url/
  certificate:  $state/cert.pem
  SHA-256:      $fingerprint
  admin user:   $admin
  password:     $password   (one-time: choose your own at the first login;
                a new one-time password is made at each start)

  The technician's console (opened now when a desktop is available):
    $agent --relay $url --ca $state/cert.pem
  Log in, press "New PIN", read the PIN out. The end user starts:
    $applet --relay $url --ca $state/cert.pem
  A script can do the same with: $agent --cli --relay $url --ca $state/cert.pem ...

  Try: curl --cacert $state/cert.pem $url/healthz
  Stop with Ctrl-C.

MSG

"$relay" serve --state-dir "$state" --listen "$listen" &
relay_pid=$!
agent_pid=
stop() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null
	kill -TERM "$relay_pid" 2>/dev/null
}
trap stop INT TERM
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
	sleep 1
	"$agent" --relay "$url" --ca "$state/cert.pem" &
	agent_pid=$!
else
	echo "run: no desktop (DISPLAY is not set): not opening the agent window"
fi
wait "$relay_pid"
status=$?
# Interrupted by Ctrl-C: the trap asked the relay to stop; wait for it.
if [ "$status" -gt 128 ]; then
	wait "$relay_pid"
	status=$?
fi
[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null
exit "$status"
