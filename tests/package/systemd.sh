#!/bin/bash
# package_systemd: the relay's unit as the lifeline-relay package installs
# it has what installers/README.md promises (Type=notify, reload by
# SIGHUP, the user lifeline, ProtectSystem=strict, NoNewPrivileges, no
# capability at all, StateDirectory), and `systemd-analyze security`
# rates it at most 1.5 (of 10; lower is safer).  The score is printed.
. "$(dirname "$0")/lib.sh"
need_tools systemd-analyze dpkg-deb
need_dist

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
dpkg-deb -x "$DIST"/lifeline-relay_*.deb "$tree"
unit=$tree/lib/systemd/system/lifeline-relay.service
[ -f "$unit" ] || fail "lifeline-relay.deb has no lib/systemd/system/lifeline-relay.service"

for want in 'Type=notify' 'ExecReload=/bin/kill -HUP $MAINPID' \
	'User=lifeline' 'StateDirectory=lifeline' 'ProtectSystem=strict' \
	'NoNewPrivileges=yes' 'CapabilityBoundingSet=' 'AmbientCapabilities=' \
	'ExecStart=/usr/bin/lifeline-relay serve --state-dir /var/lib/lifeline' \
	'PrivateDevices=yes' 'ProtectHome=yes' \
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
	'SystemCallFilter=@system-service' 'MemoryDenyWriteExecute=yes' \
	'UMask=0077'; do
	grep -qxF -- "$want" "$unit" || fail "the unit lacks the line $want"
done

# The unit's own check (unknown keys, bad values), offline.
out=$LL_PKG_DIR/systemd-analyze.txt
systemd-analyze verify --man=no "$unit" >"$out" 2>&1 || true
if grep -v -e 'Command .* is not executable' -e 'No such file or directory' \
	-e '^$' "$out" | grep -q .; then
	cat "$out"
	fail "systemd-analyze verify complains about the unit"
fi

# 1.5 is 15 on the scale --threshold takes (0..100).
systemd-analyze security --offline=yes --no-pager --threshold=15 \
	"$unit" >"$out" 2>&1 || {
	cat "$out"
	fail "systemd-analyze security: exposure over 1.5"
}
grep -v '^  *✓\|^✓' "$out"
score=$(sed -n 's/.*Overall exposure level for lifeline-relay.service: \([0-9.]*\).*/\1/p' "$out")
[ -n "$score" ] || fail "no exposure score in systemd-analyze's answer"
log "systemd-analyze security: exposure $score"
