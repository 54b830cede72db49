#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Runs after every other integration test: each secret the tests used or
# received (LL_TEST_TMPDIR/logs/secrets-*.txt, lines "kind<TAB>value":
# passwords including the canary "Canary-Pw-7f3a9c", PINs, tokens,
# tickets) must appear in none of the relay logs under LL_TEST_TMPDIR/logs
# (serve logs, admin command output, audit exports).  Fails naming each
# leak: what kind of secret, in which file, on which line.
set -eu

: "${LL_TEST_TMPDIR:?LL_TEST_TMPDIR is not set}"
logs=${1:-$LL_TEST_TMPDIR/logs}
canary='Canary-Pw-7f3a9c'

if [ ! -d "$logs" ]; then
	echo "canary: no $logs: did the integration tests run?" >&2
	exit 1
fi
set -- "$logs"/secrets-*.txt
if [ ! -f "$1" ]; then
	echo "canary: no secrets-*.txt in $logs: did the tests run?" >&2
	exit 1
fi
if ! grep -q "	$canary\$" "$@"; then
	echo "canary: the canary password is not among the secrets" >&2
	exit 1
fi

# The logs: every regular file but the secret lists themselves.
list=$(mktemp)
trap 'rm -f "$list"' EXIT
find "$logs" -type f ! -name 'secrets-*.txt' | sort >"$list"
if [ ! -s "$list" ]; then
	echo "canary: no relay logs in $logs" >&2
	exit 1
fi
if ! xargs -d '\n' grep -l 'lifeline-relay: listening on' <"$list" \
	>/dev/null; then
	echo "canary: no serve log among the logs: nothing to check" >&2
	exit 1
fi

n_secrets=0
n_leaks=0
tab=$(printf '\t')
sorted=$(mktemp)
trap 'rm -f "$list" "$sorted"' EXIT
cat "$@" | sort -u >"$sorted"
while IFS="$tab" read -r kind value; do
	[ -n "$value" ] || continue
	n_secrets=$((n_secrets + 1))
	# A 6-digit PIN only counts as a whole number, not inside a longer
	# one (byte counts, ports, timestamps).
	case $value in
	*[!0-9]*) opt=-F ;;
	*) opt=-Fw ;;
	esac
	hits=$(xargs -d '\n' grep -n $opt -e "$value" -- <"$list" 2>/dev/null |
		cut -d: -f1,2 | head -n 5) || true
	if [ -n "$hits" ]; then
		n_leaks=$((n_leaks + 1))
		echo "LEAK: a $kind (${#value} characters) is in:"
		echo "$hits" | sed "s|^$logs/|  |"
	fi
done <"$sorted"

n_logs=$(wc -l <"$list")
echo "canary: $n_secrets secrets checked against $n_logs log files," \
	"$n_leaks leaked"
[ "$n_leaks" -eq 0 ]
