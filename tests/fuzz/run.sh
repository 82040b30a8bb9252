#!/bin/sh
# Run each libFuzzer harness in $BUILD/libfuzzer/ for FUZZ_SECONDS, starting
# from the kept inputs in tests/fuzz/corpus/NAME/ (never written to: what
# the fuzzer finds goes to $BUILD/fuzz-corpus/NAME/). A failing input is
# saved under $BUILD/fuzz-failed/; copy it into tests/fuzz/corpus/NAME/ so
# `make test` replays it from then on.
#   sh tests/fuzz/run.sh [NAME...]     (make fuzz FUZZ="jsonr sse")
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BUILD=${BUILD:-build-fuzz}
secs=${FUZZ_SECONDS:-60}
names=${*:-$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
failed=0
passed=0
mkdir -p "$BUILD/fuzz-failed"
for name in $names; do
    bin="$BUILD/libfuzzer/fuzz_$name"
    [ -x "$bin" ] || { echo "no harness $bin" >&2; failed=$((failed + 1)); continue; }
    # absolute paths: a harness may change the current directory
    work="$top/$BUILD/fuzz-corpus/$name"
    mkdir -p "$work"
    seeds="$top/tests/fuzz/corpus/$name"
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=$top/tests/fuzz/$name.dict"
    log="$BUILD/fuzz-$name.log"
    # leak checks on; 10 s per input is a hang; 2 GB is runaway memory
    "$bin" "$work" "$seeds" $dict -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$top/$BUILD/fuzz-failed/$name-" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        printf 'ok - fuzz %-8s %s runs in %s s, corpus %s inputs\n' "$name" "${runs:-?}" \
            "$secs" "$(ls "$work" | wc -l)"
    else
        failed=$((failed + 1))
        printf 'not ok - fuzz %s (exit %d; log %s)\n' "$name" "$rc" "$log"
        grep -E 'ERROR|check failed|SUMMARY|Test unit written' "$log" | head -8 | sed 's/^/    /'
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
