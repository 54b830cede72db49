#!/bin/sh
# Installs the staged brand icons (branding/meson.build) as the hicolor
# icons of both programs:
#   install-icons.sh STAGED_DIR DATADIR SIZE...
# DATADIR as meson's datadir option (relative to the prefix, or absolute).
set -eu
staged=$1
datadir=$2
shift 2
case $datadir in
/*) dest=${DESTDIR:-}$datadir ;;
*) dest=$MESON_INSTALL_DESTDIR_PREFIX/$datadir ;;
esac
for size in "$@"; do
	dir=$dest/icons/hicolor/${size}x${size}/apps
	mkdir -p "$dir"
	for prog in lifeline-applet lifeline-agent; do
		install -m 0644 "$staged/icon-$size.png" "$dir/$prog.png"
	done
done
