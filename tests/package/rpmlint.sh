#!/bin/bash
# package_rpmlint: the RPM packages, the shortcut's included, have no
# rpmlint error or warning with installers/rpm/rpmlint.toml (its filters
# say why each is there); and they hold the same files as the Debian
# packages, in Fedora's paths.
. "$(dirname "$0")/lib.sh"
need_tools rpmlint rpm dpkg-deb
need_dist

out=$LL_PKG_DIR/rpmlint.txt
st=0
rpmlint -c "$LL_SOURCE_ROOT/installers/rpm/rpmlint.toml" "$DIST"/*.rpm \
	>"$out" 2>&1 || st=$?
cat "$out"
[ "$st" -eq 0 ] || fail "rpmlint: errors or warnings (status $st)"
grep -q ' 0 errors, 0 warnings' "$out" || fail "rpmlint reports something"

# deb and rpm of each program: the same files (directories aside) once
# the paths that differ by design are mapped: the unit's directory,
# documentation and licence folders, build-id links.
norm() {
	sed -e 's|^\./|/|' -e 's|^/lib/systemd/|/usr/lib/systemd/|' \
		-e '\|^/usr/share/doc/|d' -e '\|^/usr/share/licenses/|d' \
		-e '\|^/usr/lib/\.build-id/|d' -e '\|^/usr/share/lintian/|d' |
		sort
}
for p in relay applet agent; do
	a=$(dpkg-deb -c "$DIST"/lifeline-${p}_*.deb |
		awk '$1 !~ /^d/ { print $6 }' | norm)
	b=$(rpm -qlvp "$DIST"/lifeline-$p-[0-9]*.rpm 2>/dev/null |
		awk '$1 !~ /^d/ { print $9 }' | norm)
	[ -n "$a" ] && [ "$a" = "$b" ] || {
		diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") >&2
		fail "lifeline-$p: the .deb (<) and the .rpm (>) hold different files"
	}
done
log "no errors, no warnings; rpm and deb hold the same files"
