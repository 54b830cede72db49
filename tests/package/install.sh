#!/bin/bash
# package_install: the .deb files in a fresh Debian 12 root, used the way
# an organisation would.
#
#   1. apt-get install ./lifeline-{relay,applet,agent}_*.deb and the
#      shortcut package (dependencies from Debian's mirror); the user
#      lifeline, its state directory, relay.conf's link, the unit, the
#      shortcut's /etc/lifeline/applet.conf are there.
#   2. The README's "Run a relay": a certificate of the org's own in
#      /etc/lifeline/tls (root:lifeline 0640, as the README installs
#      it), cert_file/key_file appended to relay.conf, `init --org acme
#      --org-name`, the first administrator (`technician add admin
#      --admin --name`) listed as an admin; the unit's ExecStart line as lifeline
#      (no systemd in a chroot: setpriv, with NoNewPrivileges and UMask as
#      the unit has them, and NOTIFY_SOCKET); listen comes from
#      /etc/lifeline/relay.conf.  READY=1 once it listens; SIGHUP gives
#      RELOADING=1 then READY=1.
#   3. A technician (lifeline-relay technician add), the installed
#      agent's CLI makes a PIN; the relay's own signed applet
#      configuration (applet-config, public_url set to where it listens)
#      and its key installed in /etc/lifeline in place of the shortcut's,
#      as the organisation's next shortcut package would; the installed
#      applet, with no --relay or --ca, redeems the PIN on an Xvfb;
#      Allow (Alt+A) in its permission window, `session wait` sees view
#      and control granted, a snapshot of the user's screen.
#   4. The README's backup while the relay runs (sqlite3 .backup as
#      lifeline) opens as a store; SIGTERM: STOPPING=1, a clean stop;
#      `audit verify` finds the chain intact.
# Screenshots: artifacts/package/install-*.png.
. "$(dirname "$0")/lib.sh"
need_root
need_tools unshare chroot Xvfb xdotool import socat openssl
need_dist
own_mount_namespace "$@"

XVFB_PID=
SOCAT_PID=
cleanup() {
	unmount_roots
	[ -n "$SOCAT_PID" ] && kill "$SOCAT_PID" 2>/dev/null
	[ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
mkdir -p "$LL_ARTIFACTS_DIR"
start=$(date +%s)

make_root install
log "root ready after $(($(date +%s) - start)) s"
in_root() { chroot "$ROOT" "$@"; }
as_user() {
	chroot "$ROOT" runuser -u user -- env HOME=/home/user LANG=C.UTF-8 \
		XDG_RUNTIME_DIR=/run/user/1000 "$@"
}

# ---- 1. install ----
mkdir "$ROOT/tmp/debs"
cp "$DIST"/lifeline-relay_*.deb "$DIST"/lifeline-applet_*.deb \
	"$DIST"/lifeline-agent_*.deb "$DIST"/lifeline-shortcut-acme_*_all.deb \
	"$ROOT/tmp/debs/"
root_apt update
debs=$(cd "$ROOT/tmp/debs" && ls ./*.deb | sed 's|^\./|/tmp/debs/|')
# shellcheck disable=SC2086
root_apt install $debs
log "packages installed after $(($(date +%s) - start)) s"

in_root getent passwd lifeline >/dev/null || fail "no user lifeline"
[ "$(in_root stat -c '%U %a' /var/lib/lifeline)" = "lifeline 700" ] ||
	fail "/var/lib/lifeline is not lifeline's with mode 0700"
[ "$(readlink "$ROOT/var/lib/lifeline/relay.conf")" = /etc/lifeline/relay.conf ] ||
	fail "/var/lib/lifeline/relay.conf is not a link to /etc/lifeline/relay.conf"
unit=$ROOT/lib/systemd/system/lifeline-relay.service
[ -f "$unit" ] || fail "no lifeline-relay.service"
cmp -s "$ROOT/etc/lifeline/applet.conf" "$LL_PKG_DIR/acme.lifeline" ||
	fail "/etc/lifeline/applet.conf is not the shortcut's configuration"
[ -f "$ROOT/etc/lifeline/applet-config.pub" ] ||
	fail "the shortcut installed no /etc/lifeline/applet-config.pub"
[ "$(stat -c %a "$ROOT/etc/lifeline/applet.conf")" = 644 ] ||
	fail "/etc/lifeline/applet.conf is not mode 0644"
for f in lifeline-applet lifeline-agent lifeline-shortcut-acme; do
	[ -f "$ROOT/usr/share/applications/$f.desktop" ] ||
		fail "no $f.desktop installed"
done

# ---- 2. init and serve as lifeline ----
sed -i 's/^#listen = .*/listen = 127.0.0.1:0/' "$ROOT/etc/lifeline/relay.conf"
grep -qx 'listen = 127.0.0.1:0' "$ROOT/etc/lifeline/relay.conf" ||
	fail "relay.conf has no #listen line to set"
# The org's own certificate (here its own CA, for 127.0.0.1), installed
# with the README's lines; certbot's files would be root's alone too.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
	-days 2 -keyout "$ROOT/root/privkey.pem" -out "$ROOT/root/fullchain.pem" \
	2>/dev/null || fail "openssl: the test certificate"
in_root install -d -o root -g lifeline -m 0750 /etc/lifeline/tls
in_root install -o root -g lifeline -m 0640 /root/fullchain.pem /etc/lifeline/tls/
in_root install -o root -g lifeline -m 0640 /root/privkey.pem /etc/lifeline/tls/
cat >>"$ROOT/etc/lifeline/relay.conf" <<'CONF'
cert_file = /etc/lifeline/tls/fullchain.pem
key_file = /etc/lifeline/tls/privkey.pem
CONF
in_root runuser -u lifeline -- lifeline-relay init --org acme \
	--org-name "ACME IT" >"$LL_PKG_DIR/init.log" 2>&1 || {
	tail_log "$LL_PKG_DIR/init.log"
	fail "lifeline-relay init as lifeline"
}
[ ! -e "$ROOT/var/lib/lifeline/cert.pem" ] ||
	fail "init made a self-signed certificate beside cert_file"
in_root runuser -u lifeline -- lifeline-relay technician add admin --admin \
	--name "ACME IT Administrator" >/dev/null 2>&1 ||
	fail "technician add admin --admin"
in_root runuser -u lifeline -- lifeline-relay technician list |
	grep -q '^admin  *acme  *admin  *enabled' ||
	fail "the README's first administrator is not an admin"
password="package-test-$$-$RANDOM$RANDOM"
printf '%s\n' "$password" | in_root runuser -u lifeline -- \
	lifeline-relay technician add tech --org acme --password-stdin >/dev/null ||
	fail "lifeline-relay technician add"

# The unit's ExecStart, with its user, NoNewPrivileges and UMask.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ -n "$exec_start" ] || fail "no ExecStart in the unit"
notify=$LL_PKG_DIR/notify.log
: >"$notify"
socat -u ABSTRACT-RECV:"lifeline-notify-$$" OPEN:"$notify",append &
SOCAT_PID=$!
wait_for 10 "socat on NOTIFY_SOCKET" grep -q "@lifeline-notify-$$\$" /proc/net/unix
relay_log=$LL_PKG_DIR/relay.log
# shellcheck disable=SC2086
chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	NOTIFY_SOCKET="@lifeline-notify-$$" \
	setpriv --reuid lifeline --regid lifeline --init-groups \
	--no-new-privs sh -c 'umask 0077; exec "$@"' sh $exec_start \
	>"$relay_log" 2>&1 &
relay_pid=$!
relay_up() { has_line "$relay_log" 'lifeline-relay: ready' || gone "$relay_pid"; }
wait_for 20 "the relay's ready line" relay_up
port=$(sed -n 's|.*lifeline-relay: listening on https://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$relay_log")
[ -n "$port" ] || {
	tail_log "$relay_log"
	fail "the relay did not say where it listens"
}
notified() { grep -o 'READY=1\|RELOADING=1\|STOPPING=1' "$notify" | tr '\n' ' '; }
wait_for 10 "READY=1 on NOTIFY_SOCKET" has_line "$notify" 'READY=1'
[ "$(stat -c %u "/proc/$relay_pid")" = "$(in_root id -u lifeline)" ] ||
	fail "the relay does not run as lifeline"
log "relay on 127.0.0.1:$port; notified: $(notified)"
kill -HUP "$relay_pid"
wait_for 10 "RELOADING=1 then READY=1 after SIGHUP" \
	sh -c "grep -o 'READY=1\|RELOADING=1' '$notify' | tr '\n' ' ' | grep -qx 'READY=1 RELOADING=1 READY=1 '"
log "after SIGHUP: $(notified)"

# ---- 3. a PIN, redeemed by the installed applet ----
install -m 0644 "$ROOT/root/fullchain.pem" "$ROOT/tmp/ca.pem"
agent() {
	as_user lifeline-agent --cli --relay "https://127.0.0.1:$port" \
		--ca /tmp/ca.pem "$@"
}
printf '%s\n' "$password" | agent login --user tech --org acme \
	--password-stdin >/dev/null || fail "lifeline-agent --cli login"
agent pin new --request view,control >"$LL_PKG_DIR/pin.txt" ||
	fail "lifeline-agent --cli pin new"
pin=$(sed -n 1p "$LL_PKG_DIR/pin.txt")
sid=$(sed -n 2p "$LL_PKG_DIR/pin.txt")
[ "${#pin}" -eq 6 ] && [ -n "$sid" ] || fail "pin new printed no PIN and session id"

# This relay's configuration: the applet reads /etc/lifeline/applet.conf
# and trusts it through /etc/lifeline/applet-config.pub (docs/SECURITY.md).
printf 'public_url = https://127.0.0.1:%s\n' "$port" \
	>>"$ROOT/etc/lifeline/relay.conf"
in_root runuser -u lifeline -- lifeline-relay applet-config --org acme \
	--out /var/lib/lifeline/acme.lifeline >/dev/null ||
	fail "lifeline-relay applet-config in the root"
install -m 0644 "$ROOT/var/lib/lifeline/acme.lifeline" \
	"$ROOT/etc/lifeline/applet.conf"
install -m 0644 "$ROOT/var/lib/lifeline/applet-sign.pub" \
	"$ROOT/etc/lifeline/applet-config.pub"

start_xvfb
applet_log=$LL_PKG_DIR/applet.log
as_user env DISPLAY="$DISPLAY" NO_AT_BRIDGE=1 lifeline-applet \
	--pin "$pin" >"$applet_log" 2>&1 &
applet_pid=$!
applet_running() { ! gone "$applet_pid"; }
armed() { has_line "$applet_log" 'accepts answers now' || ! applet_running; }
wait_for 60 "the applet's permission window taking answers" armed
applet_running || {
	tail_log "$applet_log"
	fail "the applet exited before its permission window"
}
dlg=$(window_of 'Permission request')
[ -n "$dlg" ] || fail "no window named '... Permission request'"
import -window root "$LL_ARTIFACTS_DIR/install-consent.png" ||
	fail "screenshot of the permission window"
# What a person does: the pointer over the window, focus, Alt+A.
xdotool mousemove --window "$dlg" 20 20
xdotool windowfocus --sync "$dlg"
xdotool key --clearmodifiers alt+a
caps=$(agent session wait "$sid" --timeout 25) ||
	fail "session wait after Allow (status $?)"
log "granted: $caps"
case $caps in *view*control* | *control*view*) ;;
*) fail "session wait says '$caps', want view and control" ;;
esac
agent session snapshot "$sid" /tmp/snapshot.png ||
	fail "session snapshot"
cp "$ROOT/tmp/snapshot.png" "$LL_ARTIFACTS_DIR/install-snapshot.png"
agent session end "$sid" || fail "session end"
# "Session ended" says so and waits for the person: Close (Alt+C).
ended() { [ -n "$(window_of 'Session ended$')" ] || ! applet_running; }
wait_for 20 "the window 'Session ended'" ended
win=$(window_of 'Session ended$')
[ -n "$win" ] || fail "the applet exited without saying the session ended"
xdotool windowfocus --sync "$win"
xdotool key --clearmodifiers alt+c
wait_for 20 "the applet's exit after the session ended" gone "$applet_pid"
st=0
wait "$applet_pid" || st=$?
[ "$st" -eq 0 ] || {
	tail_log "$applet_log"
	fail "the applet exited with $st after the session ended (want 0)"
}

# ---- 4. the README's backup while it runs, stop, the audit chain ----
root_apt install sqlite3
in_root runuser -u lifeline -- sqlite3 /var/lib/lifeline/lifeline.db \
	".backup '/var/lib/lifeline/backup.db'" || fail "sqlite3 .backup"
[ "$(in_root runuser -u lifeline -- sqlite3 /var/lib/lifeline/backup.db \
	'SELECT count(*) FROM technicians')" = 2 ] ||
	fail "the backup does not hold the two technicians"
kill -TERM "$relay_pid"
wait_for 20 "the relay's exit after SIGTERM" gone "$relay_pid"
st=0
wait "$relay_pid" || st=$?
[ "$st" -eq 0 ] || {
	tail_log "$relay_log"
	fail "the relay exited with $st on SIGTERM"
}
has_line "$relay_log" 'lifeline-relay: stopped' || fail "no 'stopped' line"
has_line "$notify" 'STOPPING=1' || fail "no STOPPING=1 on NOTIFY_SOCKET"
log "notified in all: $(notified)"
in_root runuser -u lifeline -- lifeline-relay audit verify ||
	fail "audit verify"
log "passed in $(($(date +%s) - start)) s"
