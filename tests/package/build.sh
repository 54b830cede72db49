#!/bin/bash
# package_build: scripts/package.sh makes every package into LL_PKG_DIR/dist
# (the other package tests use them): the .deb and .rpm of the three
# programs, the portable applet, and a shortcut package for the org "acme",
# all in the example brand (branding/example-corp), as an organisation
# builds them (README.md, "Deploy to an organisation"): every window the
# later tests open shows that brand, not Lifeline's own.  The shortcut's configuration comes from
# `lifeline-relay applet-config` (the generator installs the key it names).
. "$(dirname "$0")/lib.sh"
need_tools dpkg-buildpackage dh rpmbuild patchelf lintian git

rm -rf "$DIST"
mkdir -p "$DIST"
config=$LL_PKG_DIR/acme.lifeline
rm -f "$config"
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
"${LL_RELAY_BIN:?}" init --state-dir "$state/s" --org acme >/dev/null ||
	fail "lifeline-relay init for the applet configuration"
"$LL_RELAY_BIN" applet-config --state-dir "$state/s" --org acme \
	--out "$config" ||
	fail "lifeline-relay applet-config --org acme --out FILE"
log "shortcut configuration: made by lifeline-relay applet-config"

# The plain build has run the unit suite already: not again in the
# Debian build (and its meson build leaves the tests out).
start=$(date +%s)
DEB_BUILD_OPTIONS=nocheck "$LL_SOURCE_ROOT/scripts/package.sh" \
	--out "$DIST" --jobs "$(nproc)" --branding example-corp \
	--shortcut "acme:$config:$LL_SOURCE_ROOT/branding/example-corp" ||
	fail "scripts/package.sh failed"
log "built in $(($(date +%s) - start)) s"

# Every kind of file is there, once.
for pattern in 'lifeline-relay_*.deb' 'lifeline-applet_*.deb' \
	'lifeline-agent_*.deb' 'lifeline-relay-[0-9]*.rpm' \
	'lifeline-applet-[0-9]*.rpm' 'lifeline-agent-[0-9]*.rpm' \
	'lifeline-applet-portable-*.run' 'lifeline-shortcut-acme_*_all.deb' \
	'lifeline-shortcut-acme-*.noarch.rpm'; do
	n=$(find "$DIST" -maxdepth 1 -name "$pattern" | wc -l)
	[ "$n" -eq 1 ] || fail "dist/ has $n files $pattern, want 1"
done
# The sizes the report asks for: the applet's installed binary, each
# package and the portable applet (the goal: 3 MB or less).
mkdir -p "$LL_PKG_DIR/applet-deb"
dpkg-deb -x "$DIST"/lifeline-applet_*.deb "$LL_PKG_DIR/applet-deb"
printf '%10d  lifeline-applet (installed binary, stripped)\n' \
	"$(stat -c %s "$LL_PKG_DIR/applet-deb/usr/bin/lifeline-applet")"
rm -rf "$LL_PKG_DIR/applet-deb"
portable=$(stat -c %s "$DIST"/lifeline-applet-portable-*.run)
[ "$portable" -le 3145728 ] ||
	fail "the portable applet is $portable bytes: over the 3 MB goal"
touch "$DIST/BUILT"
