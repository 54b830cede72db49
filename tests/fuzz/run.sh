#!/bin/sh
# Runs one libFuzzer target as a test of the 'fuzz' suite:
#   run.sh FUZZER SEEDS WORKDIR SECONDS
# from a fresh copy of its seed corpus (what libFuzzer learns stays out of
# the source tree), for LL_FUZZ_SECONDS if set, else SECONDS (the
# fuzz_seconds option).  A finding is written to WORKDIR/NAME-crash-...
# (or leak-, timeout-, oom-) and fails the test.
set -u
exe=$1
seeds=$2
work=$3
seconds=${LL_FUZZ_SECONDS:-$4}
name=$(basename "$exe")
corpus=$work/corpus-run/$name
log=$work/$name.log

rm -rf "$corpus"
mkdir -p "$corpus" || exit 1
if [ -d "$seeds" ]; then
	cp -R "$seeds/." "$corpus/" || exit 1
fi

# libFuzzer stops by itself after max_total_time, and -timeout bounds one
# input; timeout(1) only guards against a hang outside both (the meson
# test itself has no timeout, since LL_FUZZ_SECONDS is read here).
timeout --kill-after=10 $((seconds + 120)) "$exe" \
	-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$work/$name-" \
	"$corpus" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ]; then
	echo "$name: ${runs:-?} runs in ${seconds}s, no finding"
	exit 0
fi
tail -n 60 "$log"
echo "$name: exit $rc, see $log and $work/$name-*"
# libFuzzer's own exit code for a crash is 77, which meson would count as
# a skip: any failure is 1.
exit 1
