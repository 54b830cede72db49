#!/bin/bash
# Builds Lifeline and runs every test through `meson test`: the plain
# build (-Werror) with every suite, then the TLS scan and the log canary;
# the clients of a second brand, opened beside the first (brand_gui);
# the source checks (scripts/checksrc.sh); the suites again under
# ASan+UBSan (the test setup 'asan' of meson.build); and each libFuzzer
# target for a bounded time (the suite 'fuzz'); last, the packages (the
# suite 'package': built, linted, installed into fresh Debian 12 roots).
# The last line is "N passed, N failed".
#
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --quick    the plain build's suites only (no packages)
# LL_FUZZ_SECONDS (default 30 here; -Dfuzz_seconds, 45, for meson test
# alone) bounds each fuzz target's run: 30 s keeps the whole run
# within CI's 45 minutes.
set -u
cd "$(dirname "$0")/.." || exit 1

quick=0
[ "${1:-}" = "--quick" ] && quick=1
export LL_FUZZ_SECONDS=${LL_FUZZ_SECONDS:-30}
jobs=$(nproc 2>/dev/null || echo 2)

passed=0
failed=0
failures=""
skipped=""

note() { printf '\n== %s ==\n' "$*"; }
fail() { failed=$((failed + 1)); failures="$failures\n  $1"; }
pass() { passed=$((passed + 1)); }

finish() {
	[ -n "$skipped" ] && printf '\nSkipped:%b\n' "$skipped"
	[ -n "$failures" ] && printf '\nFailed:%b\n' "$failures"
	printf '\n%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ]
	exit $?
}

# Adds the results of one `meson test` run (its JSON log, one object per
# test) to the totals: OK and EXPECTEDFAIL pass; FAIL, TIMEOUT, ERROR and
# anything else fail; SKIP is listed by name in the summary.
count_run() {
	local label=$1 log=$2 name result n=0
	if [ ! -s "$log" ]; then
		fail "$label: no test results (meson test did not run)"
		return
	fi
	while IFS=$'\t' read -r name result; do
		n=$((n + 1))
		case "$result" in
		OK | EXPECTEDFAIL) pass ;;
		SKIP) skipped="$skipped\n  $label: $name" ;;
		*) fail "$label: $name ($result)" ;;
		esac
	done < <(jq -r '[.name, .result] | @tsv' "$log")
	[ "$n" -gt 0 ] || fail "$label: $log has no results jq could read"
}

# meson test -C DIR ... with its JSON log named after LABEL, then counts
# it.  A setup's name is appended to the log's name by meson.
run_suites() {
	local label=$1 dir=$2 setup=$3 log
	shift 3
	log=$dir/meson-logs/$label${setup:+-$setup}.json
	rm -f "$log"
	meson test -C "$dir" --print-errorlogs --logbase "$label" \
		${setup:+--setup "$setup"} "$@"
	count_run "$label" "$log"
}

# Sets up (or reconfigures) a build directory.
setup() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
	else
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
	fi || {
		cat "$dir.setup.log"
		return 1
	}
}

# Sets up a build directory and builds it.
build() {
	local dir=$1
	shift
	setup "$dir" "$@" && ninja -C "$dir" -j "$jobs"
}

note "installing build and test dependencies"
if ! ./scripts/deps.sh; then
	fail "dependencies could not be installed"
	finish
fi

# -Dtest_hooks=true: the test-only hooks (the relay's test clock) that a
# production build leaves out; without them the tests needing them skip.
note "build with -Werror"
plain_built=0
if build build-test --werror -Dbuildtype=debugoptimized -Dtest_hooks=true; then
	pass
	plain_built=1
	note "all suites, then the TLS scan and the log canary"
	run_suites plain build-test "" --num-processes "$jobs" \
		--no-suite tls --no-suite canary --no-suite package
	run_suites plain-tls-canary build-test "" --num-processes 1 \
		--suite tls --suite canary
else
	fail "build with -Werror"
fi

# Two brands side by side: the clients of a second build with the
# example brand, whose windows the first build's brand_gui test opens
# beside its own (artifacts/brands/).
note "second brand (example-corp): build the clients, open their windows"
if [ "$plain_built" -eq 1 ] &&
	setup build-brand --werror -Dbuildtype=debugoptimized \
		-Dbranding=example-corp &&
	ninja -C build-brand -j "$jobs" applet/lifeline-applet \
		agent/lifeline-agent; then
	pass
	LL_BRAND_EXTRA="example-corp=$PWD/build-brand" \
		run_suites brands build-test "" brand_gui
else
	fail "build of the second brand (example-corp)"
fi

if [ "$quick" -eq 0 ]; then
	note "source checks (scripts/checksrc.sh)"
	if ./scripts/checksrc.sh; then
		pass
	else
		fail "checksrc"
	fi

	note "ASan+UBSan build and suites (test setup asan)"
	if build build-asan --werror -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debug -Dtest_hooks=true; then
		pass
		run_suites asan build-asan asan --num-processes "$jobs"
	else
		fail "ASan+UBSan build"
	fi

	note "libFuzzer targets, ${LL_FUZZ_SECONDS}s each (suite fuzz)"
	if CC=clang build build-fuzz -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false; then
		pass
		run_suites fuzz build-fuzz "" --num-processes "$jobs" \
			--suite fuzz
	else
		fail "fuzz build"
	fi

	# After everything else: it builds the packages from this tree and
	# debootstraps a Debian 12 root once a day (build-test/package-cache).
	note "packages: build, lint, install into fresh roots (suite package)"
	if [ "$plain_built" -eq 1 ]; then
		run_suites package build-test "" --num-processes 1 \
			--suite package
	else
		fail "packages: the plain build failed"
	fi
fi

finish
