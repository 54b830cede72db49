#!/bin/bash
# Builds Lifeline and runs every test: unit and integration tests (with
# -Werror), the TLS scan and the log canary, the same suites once more under
# ASan+UBSan, and each libFuzzer target for a bounded time.  The last line
# is "N passed, N failed".
#
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --quick    the plain build's suites only
# LL_FUZZ_SECONDS (default 45) bounds each fuzz target's run.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

quick=0
[ "${1:-}" = "--quick" ] && quick=1
fuzz_seconds=${LL_FUZZ_SECONDS:-45}
jobs=$(nproc 2>/dev/null || echo 2)

passed=0
failed=0
failures=""

note() { printf '\n== %s ==\n' "$*"; }
fail() { failed=$((failed + 1)); failures="$failures\n  $1"; }
pass() { passed=$((passed + 1)); }

finish() {
	[ -n "$failures" ] && printf '\nFailed:%b\n' "$failures"
	printf '\n%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ]
	exit $?
}

# Adds a meson build's results (meson-logs/testlog.json) to the totals.
count_meson() {
	local dir=$1 label=$2 log="$1/meson-logs/testlog.json" line name result
	if [ ! -s "$log" ]; then
		fail "$label: no test results (meson test did not run)"
		return
	fi
	while IFS= read -r line; do
		name=$(printf '%s' "$line" | grep -o '"name": "[^"]*"' | head -n1 |
			sed 's/"name": "//; s/"$//')
		result=$(printf '%s' "$line" | grep -o '"result": "[A-Z]*"' |
			sed 's/"result": "//; s/"$//')
		case "$result" in
		OK | EXPECTEDFAIL) pass ;;
		SKIP) ;;
		*) fail "$label: $name ($result)" ;;
		esac
	done <"$log"
}

# Sets up (or reconfigures) a build directory and builds it.
build() {
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
	ninja -C "$dir" -j "$jobs"
}

note "installing build and test dependencies"
if ! ./scripts/deps.sh; then
	fail "dependencies could not be installed"
	finish
fi

# -Dtest_hooks=true: the test-only hooks (the relay's test clock) that a
# production build leaves out; without them the tests needing them skip.
note "build with -Werror"
if build build-test --werror -Dbuildtype=debugoptimized -Dtest_hooks=true; then
	pass
	note "all suites, then the TLS scan and the log canary"
	rm -f build-test/meson-logs/testlog.json
	meson test -C build-test --print-errorlogs --num-processes "$jobs" \
		--no-suite tls --no-suite canary || true
	cp build-test/meson-logs/testlog.json build-test/testlog-main.json
	meson test -C build-test --print-errorlogs --num-processes 1 \
		--suite tls --suite canary || true
	cat build-test/meson-logs/testlog.json >>build-test/testlog-main.json
	cp build-test/testlog-main.json build-test/meson-logs/testlog.json
	count_meson build-test "plain"
else
	fail "build with -Werror"
fi

if [ "$quick" -eq 0 ]; then
	# The GUI suites are left out here: GTK and fontconfig keep caches
	# for the life of the process that LeakSanitizer would report.
	note "ASan+UBSan build and suites (no GUI)"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	if build build-asan --werror -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debug -Dtest_hooks=true; then
		pass
		rm -f build-asan/meson-logs/testlog.json
		meson test -C build-asan --print-errorlogs \
			--num-processes "$jobs" --timeout-multiplier 3 \
			--suite unit --suite integration --suite applet \
			--no-suite tls --no-suite gui || true
		count_meson build-asan "asan"
	else
		fail "ASan+UBSan build"
	fi
	unset ASAN_OPTIONS UBSAN_OPTIONS

	note "libFuzzer targets, ${fuzz_seconds}s each"
	if CC=clang build build-fuzz -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false; then
		pass
		for src in tests/fuzz/fuzz_*.c; do
			name=$(basename "$src" .c)
			exe=build-fuzz/tests/fuzz/$name
			corpus=build-fuzz/corpus/$name
			rm -rf "$corpus"
			mkdir -p "$corpus"
			cp -r "tests/fuzz/corpus/$name/." "$corpus/" 2>/dev/null
			if "$exe" -max_total_time="$fuzz_seconds" \
				-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
				-artifact_prefix="build-fuzz/$name-" \
				"$corpus" >"build-fuzz/$name.log" 2>&1; then
				echo "fuzz: $name: $(grep -o 'stat::number_of_executed_units: [0-9]*' \
					"build-fuzz/$name.log" | sed 's/.*: //') runs, no finding"
				pass
			else
				tail -n 40 "build-fuzz/$name.log"
				fail "fuzz: $name (see build-fuzz/$name.log)"
			fi
		done
	else
		fail "fuzz build"
	fi
fi

cd "$top" || exit 1
finish
