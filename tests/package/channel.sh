#!/bin/bash
# package_channel: the README's path "a shortcut that reaches a
# technician" (README.md, "Deploy to an organisation"), in two fresh
# Debian 12 roots, with the packages of package_build:
#
#   A (the relay's machine): apt-get install ./lifeline-relay_*.deb;
#      `lifeline-relay init --org acme` as lifeline, public_url in
#      /etc/lifeline/relay.conf, the unit's ExecStart as lifeline on
#      127.0.0.1 (no systemd in a chroot: setpriv, as package_install
#      does), a technician, `channel add front-desk`, `applet-config
#      --channel front-desk --brand example-corp`.
#   On the host: make-shortcut-package --key A's applet-sign.pub, with
#      branding/example-corp: lifeline-shortcut-acme_*_all.deb.
#   B (a desktop): apt-get install ./lifeline-applet_*.deb and the
#      shortcut; the command of the installed desktop entry's Exec line
#      (its field codes dropped, as a launcher does without a URL) as the
#      user, on an Xvfb of the host (B shares the host's network
#      namespace, so loopback and X's abstract socket).
#   The waiting window "PRODUCT – Waiting for a technician" (PRODUCT: the
#      applet package's brand, the shortcut's), a description typed; the
#      technician's `lifeline-agent --cli queue list` (this build's
#      agent) shows it, `queue pickup ID` makes the session, the
#      permission window asks, Alt+A, `session wait` sees view and
#      control, `session end`, the applet exits 0, the relay stops
#      cleanly on SIGTERM.
# Screenshots: artifacts/package/channel-{waiting,consent,session}.png.
. "$(dirname "$0")/lib.sh"
need_root
need_tools unshare chroot Xvfb xdotool import dpkg-buildpackage
need_dist
[ -x "${LL_AGENT_BIN:-}" ] || skip "no agent in this build (LL_AGENT_BIN)"
own_mount_namespace "$@"

ORG=acme
BRAND=$LL_SOURCE_ROOT/branding/example-corp
DESCRIPTION="My printer says paper jam $$"
work=$LL_PKG_DIR/channel
profile=$work/agent-profile
XVFB_PID=
cleanup() {
	local p
	unmount_roots
	# the agent's session holder, started by queue pickup: ours by the
	# profile folder it was given
	for p in /proc/[0-9]*; do
		grep -qsF -- "$profile" "$p/cmdline" &&
			kill -TERM "${p#/proc/}" 2>/dev/null
	done
	[ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
rm -rf "$work"
mkdir -p "$work/debs" "$profile" "$LL_ARTIFACTS_DIR"
chmod 0700 "$profile"
start=$(date +%s)

# ---- A: the relay ----
make_root relay
A=$ROOT
mkdir "$A/tmp/debs"
cp "$DIST"/lifeline-relay_*.deb "$A/tmp/debs/"
root_apt update
root_apt install /tmp/debs/"$(basename "$DIST"/lifeline-relay_*.deb)"
log "A: lifeline-relay installed after $(($(date +%s) - start)) s"
as_lifeline() { chroot "$A" runuser -u lifeline -- "$@"; }

as_lifeline lifeline-relay init --org "$ORG" >"$work/init.log" 2>&1 || {
	tail_log "$work/init.log"
	fail "lifeline-relay init --org $ORG as lifeline"
}
# A free port from the kernel; the relay says which (public_url follows).
sed -i 's/^#listen = .*/listen = 127.0.0.1:0/' "$A/etc/lifeline/relay.conf"
grep -qx 'listen = 127.0.0.1:0' "$A/etc/lifeline/relay.conf" ||
	fail "relay.conf has no #listen line to set"
unit=$A/lib/systemd/system/lifeline-relay.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ -n "$exec_start" ] || fail "no ExecStart in the unit"
relay_log=$work/relay.log
# shellcheck disable=SC2086
chroot "$A" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
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
url=https://127.0.0.1:$port
printf 'public_url = %s\n' "$url" >>"$A/etc/lifeline/relay.conf"
log "A: relay on $url as lifeline"

password="package-test-$$-$RANDOM$RANDOM"
printf '%s\n' "$password" | as_lifeline lifeline-relay technician add tech \
	--org "$ORG" --password-stdin >/dev/null ||
	fail "lifeline-relay technician add"
as_lifeline lifeline-relay channel add front-desk --org "$ORG" \
	>"$work/credential" 2>"$work/channel.log" || {
	tail_log "$work/channel.log"
	fail "lifeline-relay channel add front-desk"
}
grep -q '^llch1_' "$work/credential" || fail "channel add printed no credential"
as_lifeline lifeline-relay applet-config --org "$ORG" --channel front-desk \
	--brand example-corp --out /var/lib/lifeline/acme-desk.lifeline \
	>"$work/applet-config.log" 2>&1 || {
	tail_log "$work/applet-config.log"
	fail "lifeline-relay applet-config --channel front-desk"
}
cp "$A/var/lib/lifeline/acme-desk.lifeline" "$A/var/lib/lifeline/applet-sign.pub" \
	"$work/"
grep -q "^relay_url=$url\$" "$work/acme-desk.lifeline" ||
	fail "the configuration does not name $url"
grep -q '^channel=' "$work/acme-desk.lifeline" ||
	fail "the configuration carries no channel"

# ---- the shortcut package, on the host ----
"$LL_SOURCE_ROOT/installers/shortcut/make-shortcut-package" \
	--out "$work/debs" --key "$work/applet-sign.pub" \
	"$ORG" "$work/acme-desk.lifeline" "$BRAND" >"$work/shortcut.log" 2>&1 || {
	tail_log "$work/shortcut.log"
	fail "make-shortcut-package"
}
shortcut=$(ls "$work/debs/lifeline-shortcut-${ORG}"_*_all.deb) ||
	fail "make-shortcut-package made no .deb"
log "shortcut package: $(basename "$shortcut")"

# ---- B: a desktop ----
make_root desk
B=$ROOT
mkdir "$B/tmp/debs"
cp "$DIST"/lifeline-applet_*.deb "$shortcut" "$B/tmp/debs/"
root_apt update
debs=$(cd "$B/tmp/debs" && ls ./*.deb | sed 's|^\./|/tmp/debs/|')
# shellcheck disable=SC2086
root_apt install $debs
log "B: applet and shortcut installed after $(($(date +%s) - start)) s"
cmp -s "$B/etc/lifeline/applet.conf" "$work/acme-desk.lifeline" ||
	fail "B's /etc/lifeline/applet.conf is not the channel's configuration"
cmp -s "$B/etc/lifeline/applet-config.pub" "$work/applet-sign.pub" ||
	fail "B's /etc/lifeline/applet-config.pub is not the relay's key"
entry=$B/usr/share/applications/lifeline-shortcut-$ORG.desktop
[ -f "$entry" ] || fail "no lifeline-shortcut-$ORG.desktop installed"
org_name=$(sed -n 's/^organisation_name *= *//p' "$BRAND/branding.ini")
grep -qx "Name=Get help from $org_name" "$entry" ||
	fail "the entry is not 'Get help from $org_name'"
ls "$B"/usr/share/icons/hicolor/*/apps/lifeline-shortcut-"$ORG".* \
	>/dev/null 2>&1 || fail "the shortcut installed no icon"
# The applet package's brand names its windows (docs/API.md, section 8).
brand_name=$(sed -n 's/^X-Lifeline-Brand=//p' \
	"$B/usr/share/applications/lifeline-applet.desktop")
[ -n "$brand_name" ] || fail "lifeline-applet.desktop names no brand"
# package_build makes the packages in the org's brand: the shortcut's
# brand is the applet's, on every window.
[ "$brand_name" = "$(basename "$BRAND")" ] ||
	fail "the applet package is of brand $brand_name, the shortcut of $(basename "$BRAND")"
product=$(sed -n 's/^product_name *= *//p' \
	"$LL_SOURCE_ROOT/branding/$brand_name/branding.ini")
[ -n "$product" ] || fail "no product_name in branding/$brand_name"

# The desktop entry's command, as a launcher runs it without a URL:
# field codes (%u, %f, ...) dropped.
exec_line=$(sed -n 's/^Exec=//p' "$entry")
[ -n "$exec_line" ] || fail "the entry has no Exec line"
read -r -a cmd <<<"$(printf '%s' "$exec_line" | sed 's/ *%[a-zA-Z]//g')"
log "B: the user clicks 'Get help from $org_name': ${cmd[*]}"

start_xvfb
applet_log=$work/applet.log
chroot "$B" runuser -u user -- env HOME=/home/user LANG=C.UTF-8 \
	XDG_RUNTIME_DIR=/run/user/1000 DISPLAY="$DISPLAY" NO_AT_BRIDGE=1 \
	"${cmd[@]}" >"$applet_log" 2>&1 &
applet_pid=$!
applet_running() { ! gone "$applet_pid"; }
export LC_ALL=C.UTF-8 # the titles' en dash, for xdotool's regex
waiting_title="^$product – Waiting for a technician\$"
has_waiting() { [ -n "$(window_of "$waiting_title")" ] || ! applet_running; }
wait_for 60 "the window '$product – Waiting for a technician'" has_waiting
applet_running || {
	tail_log "$applet_log"
	fail "the applet exited before its waiting window"
}
win=$(window_of "$waiting_title")
xdotool mousemove --window "$win" 20 20
xdotool windowfocus --sync "$win"
# the description field has the focus; Enter asks
xdotool type --delay 5 "$DESCRIPTION"
xdotool key --clearmodifiers Return
queued() { has_line "$applet_log" 'channel: waiting in the queue' || ! applet_running; }
wait_for 20 "the applet waiting in the queue" queued
applet_running || {
	tail_log "$applet_log"
	fail "the applet exited instead of waiting in the queue"
}
import -window root "$LL_ARTIFACTS_DIR/channel-waiting.png" ||
	fail "screenshot of the waiting window"

# ---- the technician ----
cp "$A/var/lib/lifeline/cert.pem" "$work/ca.pem"
agent() {
	"$LL_AGENT_BIN" --cli --relay "$url" --ca "$work/ca.pem" \
		--profile "$profile" "$@"
}
printf '%s\n' "$password" | agent login --user tech --org "$ORG" \
	--password-stdin >/dev/null || fail "lifeline-agent --cli login"
agent queue list >"$work/queue.txt" || fail "lifeline-agent --cli queue list"
id=$(grep -F -- "$DESCRIPTION" "$work/queue.txt" | cut -d' ' -f1)
if [ "$(grep -cF -- "$DESCRIPTION" "$work/queue.txt")" != 1 ] ||
	[ ${#id} -ne 32 ]; then
	cat "$work/queue.txt" >&2
	fail "queue list does not show the user once"
fi
grep -F -- "$DESCRIPTION" "$work/queue.txt" | grep -q " front-desk " ||
	fail "the entry is not in the channel front-desk"
log "queue list: $(grep -F -- "$DESCRIPTION" "$work/queue.txt")"
# (into a file: the session holder it starts outlives the command)
agent queue pickup "$id" >"$work/pickup.txt" ||
	fail "lifeline-agent --cli queue pickup"
sid=$(cat "$work/pickup.txt")
[ ${#sid} -eq 32 ] || fail "queue pickup printed '$sid', not a session id"
agent queue list >"$work/queue.txt" || fail "queue list after the pickup"
! grep -qF -- "$DESCRIPTION" "$work/queue.txt" ||
	fail "the user is still in the queue after the pickup"

# ---- consent, as for any session ----
armed() { has_line "$applet_log" 'accepts answers now' || ! applet_running; }
wait_for 30 "the permission window taking answers" armed
applet_running || {
	tail_log "$applet_log"
	fail "the applet exited before its permission window"
}
dlg=$(window_of "^$product – Permission request\$")
[ -n "$dlg" ] || fail "no window '$product – Permission request'"
import -window root "$LL_ARTIFACTS_DIR/channel-consent.png" ||
	fail "screenshot of the permission window"
xdotool mousemove --window "$dlg" 20 20
xdotool windowfocus --sync "$dlg"
xdotool key --clearmodifiers alt+a
caps=$(agent session wait "$sid" --timeout 25) ||
	fail "session wait after Allow (status $?)"
case $caps in *view*control* | *control*view*) ;;
*) fail "session wait says '$caps', want view and control" ;;
esac
has_bar() { [ -n "$(window_of "^$product – Session\$")" ] || ! applet_running; }
wait_for 20 "the window '$product – Session'" has_bar
import -window root "$LL_ARTIFACTS_DIR/channel-session.png" ||
	fail "screenshot of the session bar"
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

# ---- the end ----
kill -TERM "$relay_pid"
wait_for 20 "the relay's exit after SIGTERM" gone "$relay_pid"
st=0
wait "$relay_pid" || st=$?
[ "$st" -eq 0 ] || {
	tail_log "$relay_log"
	fail "the relay exited with $st on SIGTERM"
}
as_lifeline lifeline-relay audit verify >/dev/null || fail "audit verify"
log "passed in $(($(date +%s) - start)) s"
