#!/bin/bash
# Builds Lifeline's packages (installers/README.md) into dist/:
#
#   scripts/package.sh [--out DIR] [--branding NAME] [--jobs N]
#                      [--only deb,rpm,portable,shortcut]
#                      [--shortcut ORG:CONFIG[:BRANDDIR]]...
#
#   deb       lifeline-relay, lifeline-applet, lifeline-agent (+ -dbgsym):
#             dpkg-buildpackage -b in a copy of the tree, with
#             installers/debian as its debian/
#   rpm       the same three with rpmbuild (installers/rpm/lifeline.spec)
#   portable  lifeline-applet-portable-VERSION-ARCH.run: the
#             lifeline-applet package's binary and the libraries a GTK 3
#             desktop lacks, in one file (installers/portable/); needs deb
#   shortcut  for each --shortcut, lifeline-shortcut-ORG as .deb and .rpm
#             (installers/shortcut/make-shortcut-package; BRANDDIR defaults
#             to branding/NAME of --branding)
#
# The tree is taken as git sees it: tracked and untracked files that are
# not ignored, with their changes.  DEB_BUILD_OPTIONS=nocheck leaves the
# unit suite out of the Debian build (and the tests out of its meson
# build).  Ends with the size of every file made.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

out=dist
brand=default
jobs=$(nproc 2>/dev/null || echo 2)
only=deb,rpm,portable,shortcut
shortcuts=()
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--branding) brand=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--shortcut) shortcuts+=("$2"); shift 2 ;;
	-h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "package.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
done
want() { [[ ",$only," == *",$1,"* ]]; }
step() { printf '\n== package: %s ==\n' "$*"; }
die() {
	echo "package.sh: $*" >&2
	exit 1
}

[ -f "branding/$brand/branding.ini" ] || die "no brand branding/$brand"
version=$(sed -n "s/^  version : '\([^']*\)',\$/\1/p" meson.build)
[ -n "$version" ] || die "no version in meson.build"
deb_version=$(dpkg-parsechangelog -l installers/debian/changelog -S Version)
[ "$deb_version" = "$version" ] ||
	die "installers/debian/changelog is at $deb_version, meson.build at $version"
arch=$(uname -m)
# Reproducible builds: every timestamp is the last commit's.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
made=()

# The tree as git sees it, in lifeline-VERSION/.
src=$work/lifeline-$version
mkdir "$src"
git ls-files -z --cached --others --exclude-standard |
	tar --null -T - --ignore-failed-read -cf - | tar -xf - -C "$src"

if want rpm; then
	step "RPM packages (rpmbuild)"
	rpmtop=$work/rpmbuild
	mkdir -p "$rpmtop/SOURCES"
	tar --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime="@$SOURCE_DATE_EPOCH" -czf \
		"$rpmtop/SOURCES/lifeline-$version.tar.gz" -C "$work" \
		"lifeline-$version"
	rpmbuild -bb --nodeps --define "_topdir $rpmtop" \
		--define "ll_version $version" --define "ll_branding $brand" \
		--define "_smp_mflags -j$jobs" \
		installers/rpm/lifeline.spec >"$work/rpmbuild.log" 2>&1 || {
		tail -n 60 "$work/rpmbuild.log" >&2
		die "rpmbuild failed (log above)"
	}
	for f in "$rpmtop"/RPMS/*/*.rpm; do
		mv "$f" "$out/"
		made+=("$out/${f##*/}")
	done
fi

if want deb; then
	step "Debian packages (dpkg-buildpackage)"
	cp -r installers/debian "$src/debian"
	(cd "$src" && LL_BRANDING=$brand \
		DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} parallel=$jobs" \
		dpkg-buildpackage -us -uc -b) >"$work/dpkg-buildpackage.log" 2>&1 || {
		tail -n 60 "$work/dpkg-buildpackage.log" >&2
		die "dpkg-buildpackage failed (log above)"
	}
	for f in "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes; do
		mv "$f" "$out/"
		made+=("$out/${f##*/}")
	done
fi

if want portable; then
	step "portable applet"
	applet_deb=$(ls "$out"/lifeline-applet_"$version"_*.deb 2>/dev/null) ||
		die "the portable applet is made from the lifeline-applet package: build deb too"
	mkdir "$work/applet-deb"
	dpkg-deb -x "$applet_deb" "$work/applet-deb"
	portable=$out/lifeline-applet-portable-$version-$arch.run
	installers/portable/make-portable-applet \
		"$work/applet-deb/usr/bin/lifeline-applet" "$portable"
	made+=("$portable")
fi

if want shortcut; then
	for s in ${shortcuts[@]+"${shortcuts[@]}"}; do
		IFS=: read -r org config sbrand <<<"$s"
		step "shortcut package lifeline-shortcut-$org"
		[ -n "$org" ] && [ -n "$config" ] ||
			die "--shortcut $s: want ORG:CONFIG[:BRANDDIR]"
		while read -r f; do
			made+=("$f")
		done < <(installers/shortcut/make-shortcut-package --deb --rpm \
			--out "$out" "$org" "$config" "${sbrand:-branding/$brand}")
	done
fi

step "sizes"
for f in ${made[@]+"${made[@]}"}; do
	printf '%10d  %s\n' "$(stat -c %s "$f")" "${f#"$top"/}"
done
