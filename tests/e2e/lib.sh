# Shared helpers for end-to-end tests; source it. Each check prints a TAP
# line ("ok - name" / "not ok - name") that tests/run.sh counts.
# Environment: MCPDECK (the binary), TOP (repository root).
set -u
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MCPDECK:=$TOP/build/mcpdeck}"
SERVERS="$TOP/tests/servers/node_modules/@modelcontextprotocol"
EVERYTHING="$SERVERS/server-everything/dist/index.js"
FILESYSTEM="$SERVERS/server-filesystem/dist/index.js"
MEMORY="$SERVERS/server-memory/dist/index.js"
T=$(mktemp -d /tmp/mcpdeck-e2e.XXXXXX)
export XDG_DATA_HOME="$T/data" XDG_CONFIG_HOME="$T/config"
e2e_failed=0

ok()   { echo "ok - $1"; }
fail() { echo "not ok - $1"; shift; for l in "$@"; do echo "#   $l"; done; e2e_failed=1; }

# check NAME CONDITION-COMMAND... : ok when the command succeeds
check() {
    name=$1
    shift
    if "$@"; then ok "$name"; else fail "$name" "command failed: $*"; fi
}

# expect_exit NAME WANT ACTUAL
expect_exit() {
    if [ "$2" -eq "$3" ]; then ok "$1"; else fail "$1" "expected exit $2, got $3"; fi
}

# contains NAME FILE STRING
contains() {
    if grep -qF -- "$3" "$2"; then ok "$1"; else
        fail "$1" "expected '$3' in $2:" "$(head -c 2000 "$2")"; fi
}

# scenario NAME DESC CMD...: run a client scenario that prints TAP lines
# (kept in NAME.tap, shown in the report), then check it exited 0; its
# stderr (NAME.err) is shown when it did not.
scenario() {
    sc_name=$1 sc_desc=$2
    shift 2
    "$@" >"$sc_name.tap" 2>"$sc_name.err"
    sc_rc=$?
    cat "$sc_name.tap"
    expect_exit "$sc_desc" 0 $sc_rc
    [ $sc_rc -eq 0 ] || sed 's/^/#   /' "$sc_name.err" | tail -20
}

e2e_done() {
    [ "${KEEP:-0}" = 1 ] || rm -rf "$T"
    exit "$e2e_failed"
}

# count_procs PATTERN DIR: processes whose command line matches PATTERN and
# whose working directory is DIR (so other runs on the machine don't count).
count_procs() {
    n=0
    for p in $(pgrep -f "$1"); do
        [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$2" ] && n=$((n + 1))
    done
    echo "$n"
}
