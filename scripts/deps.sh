#!/bin/sh
# Installs what Lifeline needs to build and test, from Debian 12's packages.
# Runs as root; does nothing when everything is already there.
set -eu

PACKAGES="
 gcc libc6-dev meson ninja-build pkg-config clang libclang-rt-14-dev
 clang-format git
 libssl-dev openssl ca-certificates libevent-dev libsqlite3-dev sqlite3
 libjansson-dev libglib2.0-dev libargon2-dev libhttp-parser-dev zlib1g-dev
 libgtk-3-dev libvncserver-dev libgtk-vnc-2.0-dev libcurl4-openssl-dev
 libcjose-dev
 libx11-dev libxext-dev libxdamage-dev libxfixes-dev libxrandr-dev libxtst-dev
 libglib2.0-dev-bin librsvg2-bin desktop-file-utils
 xvfb xauth xdotool x11-utils imagemagick x11vnc
 openbox dbus-daemon libayatana-appindicator3-1
 testssl.sh jq nginx libnginx-mod-stream procps curl
 build-essential debhelper dpkg-dev lintian rpm rpmlint appstream patchelf debootstrap socat
 chromium python3
 oathtool libqrencode-dev zbar-tools
 libldap-dev slapd ldap-utils
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# The single sign-on test's OpenID provider runs on Node (tests/oidc/,
# `npm ci` from its lock file): Debian's nodejs and npm, unless a node
# with its npm is already installed (a NodeSource nodejs bundles npm).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
if [ -z "$missing" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "deps: installing:$missing"
# noninteractive: slapd's package asks nothing and configures a default
# directory.  Whether it starts a system slapd or not (policy-rc.d) is
# of no matter: the tests run slapd of their own on free loopback ports.
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
