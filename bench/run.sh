#!/bin/sh
# bench/run.sh — `make bench`: every benchmark in bench/ (bench/README.md),
# each beside its peer in the same run on the same machine, then one table.
#
#   sh bench/run.sh [client] [queue] [batch] [router] [llm] [memory] [git] [tui]
#                   [serve]                                    (default: all nine)
#
# Needs build/mcpdeck and build/libmcpdeck.a (make builds them). Compiles
# the C bench programs into $BUILD/bench/, installs the npm peers (npm ci
# in tests/servers and bench/) and, as root, redis-server and time from
# Debian when missing. Starts its own redis-server on 127.0.0.1 on a free
# port, and the LLM stand-in (tests/fixtures/llm_standin.cjs, plain node),
# and stops them at the end. memory loads sqlite-vec's vec0.so from the npm
# package (npm ci in bench/). Slow figures never fail the run; a
# benchmark that breaks (a call fails, a count is wrong) makes it exit 1.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build}
which=${*:-client queue batch router llm memory git tui serve}
out=$(mktemp -d /tmp/mcpdeck-bench.XXXXXX)
export BENCH_SUMMARY="$out/summary.tsv"
: >"$BENCH_SUMMARY"
status=0
redis_pid=""
redis_port=""
standin_pid=""

stop_standin() {
    if [ -n "$standin_pid" ]; then
        kill "$standin_pid" 2>/dev/null
        wait "$standin_pid" 2>/dev/null
        standin_pid=""
    fi
}
cleanup() {
    stop_standin
    if [ -n "$redis_pid" ]; then
        redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || kill "$redis_pid" 2>/dev/null
        wait "$redis_pid" 2>/dev/null
        redis_pid=""
    fi
    [ "${KEEP:-0}" = 1 ] || rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "bench: $*" >&2; }
apt_install() {   # apt_install PACKAGE: only as root, only when missing
    dpkg -s "$1" >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] || { say "$1 is missing (apt-get install $1)"; return 1; }
    say "installing $1 (apt-get)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1"; } \
        >"$out/apt-$1.log" 2>&1 || { say "apt-get install $1 failed: $out/apt-$1.log"; return 1; }
}
npm_ci() {   # npm_ci DIR: npm ci when node_modules is missing or older than the lock
    if [ ! -f "$1/node_modules/.stamp" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.stamp" ]
    then
        say "npm ci in $1"
        (cd "$1" && npm ci --no-audit --no-fund --loglevel=error >&2) || return 1
        touch "$1/node_modules/.stamp"
    fi
}
wants() { case " $which " in *" $1 "*) return 0 ;; esac; return 1; }
for w in $which; do
    case $w in client | queue | batch | router | llm | memory | git | tui | serve) ;;
    *) say "unknown benchmark '$w' (client, queue, batch, router, llm, memory, git, tui, serve)"
       exit 2 ;;
    esac
done

# === build the bench programs ===
for f in "$BUILD/mcpdeck" "$BUILD/libmcpdeck.a"; do
    [ -f "$f" ] || { say "$f is missing: run make first"; exit 1; }
done
PKGS="ncursesw libcurl libcjson sqlite3 libgit2 yaml-0.1 libcrypto"
CFLAGS_B="-O2 -g -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 \
-Wno-unused-parameter -D_GNU_SOURCE -Isrc -I$BUILD $(pkg-config --cflags $PKGS)"
LIBS_B="$BUILD/libmcpdeck.a $(pkg-config --libs $PKGS) -lpthread -lm"
mkdir -p "$BUILD/bench"
# shellcheck disable=SC2086
${CC:-cc} $CFLAGS_B -o "$BUILD/bench/bench_client" bench/bench_client.c $LIBS_B &&
    ${CC:-cc} $CFLAGS_B -o "$BUILD/bench/bench_queue" bench/bench_queue.c $LIBS_B &&
    ${CC:-cc} $CFLAGS_B -o "$BUILD/bench/bench_engine" bench/bench_engine.c $LIBS_B &&
    ${CC:-cc} $CFLAGS_B -o "$BUILD/bench/pingpong" bench/pingpong.c &&
    ${CC:-cc} $CFLAGS_B -o "$BUILD/bench/bare_client" bench/bare_client.c &&
    ${CC:-cc} $CFLAGS_B -o "$BUILD/bench/bench_router" bench/bench_router.c $LIBS_B &&
    ${CC:-cc} $CFLAGS_B -o "$BUILD/bench/bench_git" bench/bench_git.c $LIBS_B &&
    ${CC:-cc} $CFLAGS_B -o "$BUILD/bench/bench_llm" bench/bench_llm.c $LIBS_B &&
    ${CC:-cc} $CFLAGS_B -o "$BUILD/bench/bench_memory" bench/bench_memory.c $LIBS_B &&
    ${CC:-cc} $CFLAGS_B -Iui -o "$BUILD/bench/bench_tui" bench/bench_tui.c "$BUILD"/ui/*.o \
        $LIBS_B -lutil &&
    ${CC:-cc} $CFLAGS_B -o "$BUILD/bench/coldstart" bench/coldstart.c ||
    { say "cannot compile the bench programs"; exit 1; }

# === node: the pinned Node 22 from tests/servers (router needs none; llm
# needs no npm package and takes the pinned node when present, else PATH's) ===
if wants client || wants queue || wants batch || wants serve; then
    npm_ci tests/servers || { say "npm ci in tests/servers failed"; exit 1; }
    NODE=$(readlink -f tests/servers/node_modules/.bin/node 2>/dev/null)
    [ -x "$NODE" ] || NODE=$(command -v node)
    export NODE
fi

started=$(date +%s)
if wants client; then
    timeout 300 "$NODE" bench/client.mjs "$top/$BUILD/bench/bench_client" \
        "$top/$BUILD/bench/coldstart" || { say "client benchmark FAILED"; status=1; }
fi

if wants queue; then
    # The peer: BullMQ on a redis-server of our own.
    if apt_install redis-server && npm_ci bench; then
        redis_port=$("$NODE" -e 'const s = require("net").createServer();
            s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
        mkdir -p "$out/redis"
        redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$out/redis" \
            --logfile "$out/redis/redis.log" --daemonize no &
        redis_pid=$!
        i=0
        until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do
            i=$((i + 1))
            [ $i -gt 100 ] && { say "redis-server did not start"; status=1; break; }
            sleep 0.05
        done
    else
        say "BullMQ side skipped: its setup failed (see above)"
        status=1
    fi
    mkdir -p "$out/queue"
    timeout 300 "$NODE" bench/queue.mjs "$top/$BUILD/bench/bench_queue" "$out/queue" \
        ${redis_pid:+"$redis_port"} || { say "queue benchmark FAILED"; status=1; }
    if [ -n "$redis_pid" ]; then
        redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || kill "$redis_pid"
        wait "$redis_pid" 2>/dev/null
        redis_pid=""
    fi
fi

if wants batch; then
    apt_install time || true
    timeout 300 sh bench/batch.sh "$top/$BUILD/mcpdeck" "$out" ||
        { say "batch benchmark FAILED"; status=1; }
fi

if wants router; then
    timeout 300 "$BUILD/bench/bench_router" || { say "router benchmark FAILED"; status=1; }
fi

if wants llm; then
    # The upstream: the LLM stand-in on a free port ("listening PORT" first).
    node_llm=${NODE:-$(readlink -f tests/servers/node_modules/.bin/node 2>/dev/null)}
    [ -x "$node_llm" ] || node_llm=$(command -v node)
    standin_port=""
    if [ -n "$node_llm" ]; then
        "$node_llm" tests/fixtures/llm_standin.cjs --port 0 >"$out/standin.out" \
            2>"$out/standin.err" &
        standin_pid=$!
        i=0
        while [ -z "$standin_port" ] && [ $i -le 100 ]; do
            standin_port=$(awk '/^listening /{print $2; exit}' "$out/standin.out")
            i=$((i + 1))
            [ -n "$standin_port" ] || sleep 0.05
        done
    fi
    if [ -n "$standin_port" ]; then
        timeout 300 "$BUILD/bench/bench_llm" -p "$standin_port" ||
            { say "llm benchmark FAILED"; status=1; }
    else
        say "the LLM stand-in did not start (node: ${node_llm:-none}; $out/standin.err)"
        say "llm benchmark FAILED"
        status=1
    fi
    stop_standin
fi

if wants memory; then
    # The peer: sqlite-vec's loadable extension from its npm package.
    vec0=""
    if npm_ci bench; then
        vec0=$(find bench/node_modules -path '*sqlite-vec-linux-*/vec0.so' 2>/dev/null | head -n 1)
    fi
    if [ -n "$vec0" ]; then
        timeout 300 "$BUILD/bench/bench_memory" -s "$top/$vec0" ||
            { say "memory benchmark FAILED"; status=1; }
    else
        say "sqlite-vec's vec0.so not found under bench/node_modules (npm ci in bench/)"
        timeout 300 "$BUILD/bench/bench_memory" || true
        say "memory benchmark FAILED"
        status=1
    fi
fi

if wants git; then
    # git.status on 50,000 files vs git status; fs.grep over 100 MB vs grep -rn
    timeout 600 "$BUILD/bench/bench_git" || { say "git benchmark FAILED"; status=1; }
fi

if wants tui; then
    # the badserver fixture gives the pty run its 10 servers
    make -s "$BUILD/fixtures/badserver" BUILD="$BUILD" >/dev/null 2>&1 || true
    timeout 300 "$BUILD/bench/bench_tui" -b "$BUILD/mcpdeck" -f "$BUILD/fixtures/badserver" ||
        { say "tui benchmark FAILED"; status=1; }
fi

if wants serve; then
    # the hop through `mcpdeck serve` (stdio), measured with the SDK client
    timeout 600 "$NODE" bench/bench_serve.mjs "$top/$BUILD/mcpdeck" "$top/$BUILD/bench/pingpong" ||
        { say "serve benchmark FAILED"; status=1; }
fi

# === the table ===
echo
echo "Summary ($(($(date +%s) - started)) s; $(nproc) CPUs; $(uname -m))"
awk -F'\t' '
    BEGIN { f = "%-48s %10s %-7s %10s %7s  %s %s\n"
            printf f, "benchmark", "mcpdeck", "peer", "peer value", "ratio", "target", "" }
    { printf f, $1, $2, $3, $4, $5, $6, $7 }
' "$BENCH_SUMMARY"
[ $status -eq 0 ] || say "some benchmark FAILED (see above)"
exit $status
