#!/bin/bash
# package_appstream: the AppStream metainfo of the applet and the agent,
# as their packages install it, passes `appstreamcli validate` (and
# validate-tree with the desktop entries and icons beside it); every
# desktop entry of the packages, the shortcut's included, passes
# desktop-file-validate; the applet's and the shortcut's entries open
# lifeline: links.
. "$(dirname "$0")/lib.sh"
need_tools appstreamcli desktop-file-validate dpkg-deb
need_dist

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
for deb in "$DIST"/lifeline-applet_*.deb "$DIST"/lifeline-agent_*.deb \
	"$DIST"/lifeline-shortcut-acme_*_all.deb; do
	dpkg-deb -x "$deb" "$tree"
done
for id in org.lifeline.Applet org.lifeline.Agent; do
	f=$tree/usr/share/metainfo/$id.metainfo.xml
	[ -f "$f" ] || fail "no $id.metainfo.xml in the packages"
	appstreamcli validate --no-net --explain "$f" || fail "$id: appstreamcli validate"
done
appstreamcli validate-tree --no-net "$tree" || fail "appstreamcli validate-tree"

for f in "$tree"/usr/share/applications/*.desktop; do
	desktop-file-validate "$f" || fail "${f##*/}: desktop-file-validate"
done
for f in lifeline-applet.desktop lifeline-shortcut-acme.desktop; do
	grep -qx 'MimeType=x-scheme-handler/lifeline;' \
		"$tree/usr/share/applications/$f" ||
		fail "$f does not register the lifeline: scheme"
	grep -qx 'Exec=lifeline-applet %u' "$tree/usr/share/applications/$f" ||
		fail "$f does not pass the link to lifeline-applet"
done
log "metainfo valid; desktop entries valid; lifeline: registered"
