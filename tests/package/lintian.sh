#!/bin/bash
# package_lintian: the Debian packages, the shortcut package included,
# have no lintian error or warning.  Informational tags are shown; the
# overrides the packages carry, each with the reason beside it, are
# listed after.
. "$(dirname "$0")/lib.sh"
need_tools lintian
need_dist

changes=$(ls "$DIST"/lifeline_*.changes) || fail "no .changes in dist/"
out=$LL_PKG_DIR/lintian.txt
st=0
lintian --fail-on error,warning --display-info "$changes" "$DIST"/lifeline-shortcut-*_all.deb >"$out" 2>&1 || st=$?
cat "$out"
[ "$st" -eq 0 ] || fail "lintian: errors or warnings (status $st)"
! grep -q '^[EW]: ' "$out" || fail "lintian printed errors or warnings"
for deb in "$DIST"/*.deb; do
	dpkg-deb --fsys-tarfile "$deb" | tar -xOf - --wildcards \
		'./usr/share/lintian/overrides/*' 2>/dev/null | grep -v '^$' |
		sed "s|^|override in ${deb##*/}: |"
done
log "no errors, no warnings"
