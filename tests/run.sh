#!/bin/sh
# Run every test: the cmocka unit programs (TAP output), then the end-to-end
# scripts in tests/e2e/ (they print TAP lines too). Ends with the line
# "N passed, N failed" and exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
export BUILD MCPDECK="$top/$BUILD/mcpdeck" TOP="$top"
export CMOCKA_MESSAGE_OUTPUT=TAP
log=$(mktemp -d /tmp/mcpdeck-test.XXXXXX)
passed=0
failed=0
broken=""

run_one() {   # name, command...
    name=$1
    shift
    out="$log/$(basename "$name").out"
    "$@" >"$out" 2>&1
    rc=$?
    p=$(grep -c '^ok ' "$out")
    f=$(grep -c '^not ok ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1    # crashed or exited badly without saying which test
        echo "not ok - $name exited $rc" >>"$out"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        broken="$broken $name"
        printf '%-34s %3d passed, %d FAILED\n' "$name" "$p" "$f"
        grep -E '^not ok |^#|ERROR|error:' "$out" | head -40 | sed 's/^/    /'
    else
        printf '%-34s %3d passed\n' "$name" "$p"
    fi
}

filter=${TESTS:-}
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *"$filter"*) ;; *) continue ;; esac
    run_one "unit/$(basename "$t")" "$t"
done
# The fuzz harnesses replay every input kept for them (tests/fuzz/).
for t in "$BUILD"/fuzz/fuzz_*; do
    [ -x "$t" ] || continue
    case "$t" in *"$filter"*) ;; *) continue ;; esac
    name=$(basename "$t")
    run_one "fuzz/$name" "$t" "tests/fuzz/corpus/${name#fuzz_}"
done
for t in tests/e2e/*.sh; do
    case $(basename "$t") in lib*.sh) continue ;; esac
    [ -f "$t" ] || continue
    case "$t" in *"$filter"*) ;; *) continue ;; esac
    run_one "e2e/$(basename "$t" .sh)" sh "$t"
done

[ -n "$broken" ] && echo "failing:$broken (logs in $log)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
