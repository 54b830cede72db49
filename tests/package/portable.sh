#!/bin/bash
# package_portable: the portable applet on a stock GTK 3 system: a fresh
# Debian 12 root with only libgtk-3-0 installed (apt-get install
# libgtk-3-0, its recommends included), X from an Xvfb outside.
#
#   1. installers/portable/bundle.list is exact for that root: with the
#      bundled libraries every library the applet needs is found, and no
#      bundled library is one the root has.
#   2. A user runs it (sh FILE, as downloaded: not executable) and its PIN
#      window shows (artifacts/package/portable-pin.png); it unpacked into
#      $XDG_RUNTIME_DIR; SIGTERM to it reaches the applet, which stops.
#   3. Run again with a PIN for a relay that is not there: the applet's
#      exit status (3) comes back through the launcher.
#   4. Both times, nothing is left behind: the files under the user's home,
#      /tmp, /var/tmp, /dev/shm and $XDG_RUNTIME_DIR are the same before
#      and after.
. "$(dirname "$0")/lib.sh"
need_root
need_tools unshare chroot Xvfb xdotool import
need_dist
own_mount_namespace "$@"

XVFB_PID=
cleanup() {
	unmount_roots
	[ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
mkdir -p "$LL_ARTIFACTS_DIR"
start=$(date +%s)
run=$(ls "$DIST"/lifeline-applet-portable-*.run)

make_root gtk
root_apt update
root_apt install libgtk-3-0
log "root with libgtk-3-0 ready after $(($(date +%s) - start)) s"

# ---- 1. the bundle is what this root lacks, no more ----
# The payload as the launcher unpacks it (its header says where it is).
offset=$(sed -n 's/^payload_offset=\([0-9]*\) *$/\1/p' "$run" | head -n1)
size=$(sed -n 's/^payload_size=\([0-9]*\) *$/\1/p' "$run" | head -n1)
[ -n "$offset" ] && [ -n "$size" ] || fail "no payload_offset/payload_size in $run"
mkdir "$ROOT/tmp/unpacked"
tail -c +$((offset + 1)) "$run" | head -c "$size" | gzip -dc |
	tar -xf - -C "$ROOT/tmp/unpacked" || fail "cannot unpack the payload"
missing=$(chroot "$ROOT" ldd /tmp/unpacked/lifeline-applet | grep 'not found') &&
	fail "with the bundle, the root still lacks: $missing"
for lib in "$ROOT"/tmp/unpacked/lib/*; do
	if chroot "$ROOT" ldconfig -p | grep -q " ${lib##*/} "; then
		fail "${lib##*/} is bundled, but a GTK 3 system has it: drop it from bundle.list"
	fi
done
rm -rf "$ROOT/tmp/unpacked"
log "bundle.list: exactly what the root lacks ($(grep -vc '^#' "$LL_SOURCE_ROOT/installers/portable/bundle.list") libraries)"

# ---- 2. the PIN window ----
mkdir -p "$ROOT/home/user/Downloads"
install -m 0644 "$run" "$ROOT/home/user/Downloads/lifeline-applet-portable.run"
chroot "$ROOT" chown -R user:user /home/user/Downloads
# What a program the user runs may touch; /tmp and the like must come out
# as they went in.
files() {
	chroot "$ROOT" find /home/user /tmp /var/tmp /dev/shm /run/user/1000 \
		-xdev -printf '%p %y %s\n' 2>/dev/null | sort
}
before=$(files)
start_xvfb
# A desktop session's environment, as far as the applet cares (with a
# UTF-8 locale GTK also sets WM_NAME, which xdotool searches).  A command,
# not a function: started in the background, its PID is the launcher's
# (chroot, setpriv and env each exec the next).
as_user=(chroot "$ROOT" setpriv --reuid 1000 --regid 1000 --init-groups
	env -i PATH=/usr/bin:/bin HOME=/home/user USER=user LANG=C.UTF-8
	XDG_RUNTIME_DIR=/run/user/1000 DISPLAY="$DISPLAY" NO_AT_BRIDGE=1)
log1=$LL_PKG_DIR/portable-1.log
"${as_user[@]}" sh /home/user/Downloads/lifeline-applet-portable.run \
	--relay https://relay.invalid >"$log1" 2>&1 &
pid=$!
shown() { [ -n "$(window_of 'Enter PIN')" ] || gone "$pid"; }
wait_for 60 "the portable applet's PIN window" shown
gone "$pid" && {
	tail_log "$log1"
	fail "the portable applet exited before showing its PIN window"
}
import -window root "$LL_ARTIFACTS_DIR/portable-pin.png" ||
	fail "screenshot of the PIN window"
ls -d "$ROOT"/run/user/1000/lifeline-applet.* >/dev/null 2>&1 ||
	fail "it did not unpack into XDG_RUNTIME_DIR"
kill -TERM "$pid"
wait_for 20 "the launcher's exit after SIGTERM" gone "$pid"
st=0
wait "$pid" || st=$?
# The launcher passes the signal on and returns the applet's status: 0,
# the applet stops on SIGTERM as when its window is closed.
[ "$st" -eq 0 ] || {
	tail_log "$log1"
	fail "SIGTERM: the launcher exited with $st, want the applet's 0"
}
has_line "$log1" 'stopping on a signal' ||
	fail "the applet did not get the signal the launcher got"
# The X server drops the window once it sees the applet's connection close.
no_pin_window() { [ -z "$(window_of 'Enter PIN')" ]; }
wait_for 10 "the PIN window gone with the applet" no_pin_window
after=$(files)
[ "$before" = "$after" ] || {
	diff <(echo "$before") <(echo "$after") >&2
	fail "files left behind after SIGTERM (above: < before, > after)"
}

# ---- 3. the applet's own exit status ----
# The unreachable server is said in "Session ended", which waits for
# the person: Close (Alt+C) ends the applet with its status.
log2=$LL_PKG_DIR/portable-2.log
"${as_user[@]}" sh /home/user/Downloads/lifeline-applet-portable.run \
	--relay https://127.0.0.1:9 --pin 123456 >"$log2" 2>&1 &
pid=$!
ended() { [ -n "$(window_of 'Session ended')" ] || gone "$pid"; }
wait_for 60 "the window 'Session ended'" ended
gone "$pid" && {
	tail_log "$log2"
	fail "the portable applet exited without saying why"
}
win=$(window_of 'Session ended')
import -window root "$LL_ARTIFACTS_DIR/portable-ended.png" ||
	fail "screenshot of the Session ended window"
xdotool windowfocus --sync "$win"
xdotool key --clearmodifiers alt+c
wait_for 20 "the applet's exit after Close" gone "$pid"
st=0
wait "$pid" || st=$?
[ "$st" -eq 3 ] || {
	tail_log "$log2"
	fail "with an unreachable relay the portable applet exited $st, want 3"
}
after=$(files)
[ "$before" = "$after" ] || {
	diff <(echo "$before") <(echo "$after") >&2
	fail "files left behind after the applet's exit (above: < before, > after)"
}
log "PIN window shown; exit statuses passed through; nothing left behind"
log "portable applet: $(stat -c %s "$run") bytes; passed in $(($(date +%s) - start)) s"
