#!/bin/sh
# Lifeline applet, portable (installers/portable/README.md).  Run it with
#     sh FILE [OPTIONS of lifeline-applet]
# This file is this script, then (bytes payload_offset+1 on, payload_size
# of them) a gzip'd tar of lifeline-applet and the libraries a stock GTK 3
# desktop lacks, then, optionally, bytes appended unchanged to the
# unpacked lifeline-applet (an organisation's signed configuration).
#
# It unpacks into a private folder (mode 0700) under $XDG_RUNTIME_DIR, else
# $TMPDIR or /tmp, runs the applet from there (the binary finds its
# libraries through its RPATH, $ORIGIN/lib: no variable that programs
# the applet starts would inherit) and removes the folder when the applet
# exits or on HUP, INT or TERM: no files, no autostart, no service.
set -u
payload_offset=@OFFSET@
payload_size=@SIZE@
me=$0

base=${XDG_RUNTIME_DIR:-}
if [ -z "$base" ] || [ ! -d "$base" ] || [ ! -w "$base" ]; then
	base=${TMPDIR:-/tmp}
fi
dir=$(mktemp -d "$base/lifeline-applet.XXXXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

if ! tail -c +$((payload_offset + 1)) "$me" | head -c "$payload_size" |
	gzip -dc | tar -xf - -C "$dir"; then
	echo "$me: cannot unpack the applet into $dir" >&2
	exit 1
fi
end=$((payload_offset + payload_size))
if [ "$(wc -c <"$me")" -gt "$end" ]; then
	tail -c +$((end + 1)) "$me" >>"$dir/lifeline-applet"
fi

# In the background, so that a signal to this script reaches the applet
# and the folder still goes once it has exited.
"$dir/lifeline-applet" "$@" <&0 &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' HUP INT TERM
status=0
wait "$pid" || status=$?
while kill -0 "$pid" 2>/dev/null; do
	status=0
	wait "$pid" || status=$?
done
exit "$status"
