# Shared by the package tests (tests/package/*.sh, meson suite 'package'):
# messages, waits with a deadline, and fresh Debian 12 roots to install
# into.  Sourced by bash.
#
# The environment (tests/package/meson.build sets it):
#   LL_SOURCE_ROOT    the source tree
#   LL_PKG_DIR        this build's packaging folder: dist/ (what
#                     package_build made), roots/, logs
#   LL_PKG_CACHE      kept between runs: the base root's tarball, one per
#                     day, and the .deb files apt fetched
#   LL_ARTIFACTS_DIR  screenshots (artifacts/package/)
#   LL_DEBIAN_MIRROR  default http://deb.debian.org/debian

set -u
: "${LL_SOURCE_ROOT:?}" "${LL_PKG_DIR:?}"
: "${LL_PKG_CACHE:=${LL_PKG_CACHE_DEFAULT:?}}"
: "${LL_ARTIFACTS_DIR:=$LL_SOURCE_ROOT/artifacts/package}"
: "${LL_DEBIAN_MIRROR:=http://deb.debian.org/debian}"
DIST=$LL_PKG_DIR/dist
ME=$(basename "$0" .sh)

log() { printf '%s: %s\n' "$ME" "$*"; }
fail() {
	printf '%s: FAIL: %s\n' "$ME" "$*" >&2
	exit 1
}
skip() {
	printf '%s: SKIP: %s\n' "$ME" "$*"
	exit 77
}
need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (chroot, mounts)"
}
need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || skip "needs $t (scripts/deps.sh)"
	done
}
# The files package_build made; the tests after it use them.
need_dist() {
	[ -f "$DIST/BUILT" ] || fail "no packages in $DIST: package_build failed or did not run"
}

# Waits until "$@" succeeds, checking every 50 ms, for at most SECONDS;
# fails with WHAT when the deadline passes.  The condition is an event
# (a line in a log, a process gone): nothing here waits for time itself.
wait_for() {
	local seconds=$1 what=$2 deadline
	shift 2
	deadline=$(($(date +%s%N) + seconds * 1000000000))
	until "$@"; do
		[ "$(date +%s%N)" -lt "$deadline" ] ||
			fail "$what: not within ${seconds}s"
		sleep 0.05
	done
}
has_line() { grep -q -- "$2" "$1" 2>/dev/null; }
# A process has exited (a child not yet waited for is a zombie, which
# kill -0 would still find).
gone() {
	[ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) [ZX] ' "/proc/$1/stat" 2>/dev/null
}

# The log's end, for a failure message.
tail_log() {
	echo "--- end of $1:" >&2
	tail -n "${2:-40}" "$1" >&2 || true
}

# ---- roots ----

# Runs the rest of the test in a mount namespace of its own, so that the
# roots' /proc, /dev and /sys mounts go away with it whatever happens; the
# roots' folders are removed afterwards, from outside.  Call first, with
# "$@".
own_mount_namespace() {
	if [ "${LL_PKG_NS:-}" != 1 ]; then
		local st=0
		LL_PKG_NS=1 unshare --mount --propagation private "$0" "$@" ||
			st=$?
		remove_roots
		exit "$st"
	fi
}

ROOTS=()
remove_roots() {
	local r
	[ "${LL_KEEP_ROOTS:-0}" = 1 ] && return 0
	for r in "$LL_PKG_DIR/roots/$ME"-*; do
		[ -d "$r" ] || continue
		# never across a mount that survived
		rm -rf --one-file-system "$r"
	done
}

# The processes running in a root: ours, started by this test.
kill_in_root() {
	local root=$1 p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] || continue
		kill -TERM "${p#/proc/}" 2>/dev/null || true
	done
}

unmount_roots() {
	local r
	for r in ${ROOTS[@]+"${ROOTS[@]}"}; do
		kill_in_root "$r"
		umount -R "$r/proc" "$r/dev" "$r/sys" 2>/dev/null || true
	done
}

# The base: debootstrap --variant=minbase bookworm, cached as a tarball
# per day (LL_PKG_CACHE/bookworm-minbase-YYYYMMDD.tar).  debootstrap takes
# about 5 minutes; unpacking the tarball seconds.
base_tarball() {
	local day tar tmp
	day=$(date -u +%Y%m%d)
	tar=$LL_PKG_CACHE/bookworm-minbase-$day.tar
	if [ ! -f "$tar" ]; then
		need_tools debootstrap
		mkdir -p "$LL_PKG_CACHE/debootstrap"
		tmp=$(mktemp -d "$LL_PKG_CACHE/debootstrap.XXXXXX")
		log "debootstrap --variant=minbase bookworm (once a day, about 5 min)" >&2
		debootstrap --variant=minbase \
			--cache-dir="$LL_PKG_CACHE/debootstrap" bookworm \
			"$tmp/root" "$LL_DEBIAN_MIRROR" >"$tmp/log" 2>&1 || {
			tail_log "$tmp/log"
			rm -rf --one-file-system "$tmp"
			fail "debootstrap failed"
		}
		tar -C "$tmp/root" --numeric-owner -cf "$tar.tmp" .
		mv "$tar.tmp" "$tar"
		rm -rf --one-file-system "$tmp"
		find "$LL_PKG_CACHE" -maxdepth 1 -name 'bookworm-minbase-*.tar' \
			! -name "${tar##*/}" -delete
	fi
	echo "$tar"
}

# make_root NAME: a fresh root in LL_PKG_DIR/roots/ME-NAME with /proc, /dev
# and /sys mounted, apt ready (resolv.conf, the cache of .deb files shared
# between runs), and a user "user" (uid 1000).  Prints nothing; sets ROOT.
make_root() {
	local tar
	tar=$(base_tarball) || exit 1
	ROOT=$LL_PKG_DIR/roots/$ME-$1
	rm -rf --one-file-system "$ROOT"
	mkdir -p "$ROOT"
	tar -C "$ROOT" --numeric-owner -xf "$tar"
	ROOTS+=("$ROOT")
	mount -t proc proc "$ROOT/proc"
	mount --rbind /dev "$ROOT/dev"
	mount --rbind /sys "$ROOT/sys"
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
	mkdir -p "$LL_PKG_CACHE/apt-archives/partial"
	mount --bind "$LL_PKG_CACHE/apt-archives" "$ROOT/var/cache/apt/archives"
	echo "deb $LL_DEBIAN_MIRROR bookworm main" >"$ROOT/etc/apt/sources.list"
	chroot "$ROOT" useradd -m -u 1000 -s /bin/sh user
	# what logind makes for a session: XDG_RUNTIME_DIR
	mkdir -p "$ROOT/run/user"
	install -d -m 0700 -o 1000 -g 1000 "$ROOT/run/user/1000"
}

# apt-get in the root, quietly; its log is shown when it fails.
root_apt() {
	local log=$LL_PKG_DIR/$ME-apt.log
	chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
		-o Dpkg::Use-Pty=0 "$@" >>"$log" 2>&1 || {
		tail_log "$log"
		fail "apt-get $* failed in the root"
	}
}

# ---- X ----

# An Xvfb on the host; programs in a root reach it through its abstract
# socket (the root shares the host's network namespace).  Sets DISPLAY_NUM
# and XVFB_PID.
start_xvfb() {
	local fifo=$LL_PKG_DIR/$ME-xvfb.fd
	rm -f "$fifo"
	Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp \
		3>"$fifo" 2>"$LL_PKG_DIR/$ME-xvfb.log" &
	# shellcheck disable=SC2034 # the tests' cleanup kills it
	XVFB_PID=$!
	wait_for 20 "Xvfb says its display" test -s "$fifo"
	DISPLAY_NUM=$(head -n1 "$fifo")
	export DISPLAY=:$DISPLAY_NUM
}

# The X window whose name matches REGEX, once it is mapped.
window_of() {
	xdotool search --onlyvisible --name "$1" 2>/dev/null | head -n1
}
