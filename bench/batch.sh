#!/bin/sh
# bench/batch.sh — benchmark 3: a batch of BATCH_TASKS (10,000) tool tasks
# against the built-in fs server (fs.list_directory on a two-file
# directory) through `mcpdeck --batch FILE`: wall time and peak RSS of the
# mcpdeck process (/usr/bin/time -f %M). Target: peak RSS <= 50 MB.
#
#   sh bench/batch.sh MCPDECK DIR
#
# Runs a 100-task warm-up first, then the batch twice, each on a fresh
# database: with the default report (text, on stderr) and with
# --format json -o FILE. Appends rows to $BENCH_SUMMARY when set. Exit 1
# if a run fails or does not report every task passed.
set -u
mcpdeck=$1
dir=$2
tasks=${BATCH_TASKS:-10000}
limit_mb=50
timebin=/usr/bin/time
[ -x "$timebin" ] || { echo "batch: $timebin is missing (apt-get install time)" >&2; exit 1; }

ws=$dir/batch/ws
mkdir -p "$ws/d"
echo one > "$ws/d/a.txt"
echo two > "$ws/d/b.txt"
gen() {   # gen N FILE
    awk -v n="$1" 'BEGIN { print "tasks:"
        for (i = 1; i <= n; i++) print "  - {tool: fs.list_directory, args: {path: d}}" }' > "$2"
}
gen 100 "$ws/warmup.yaml"
gen "$tasks" "$ws/tasks.yaml"

# run NAME EXTRA-ARGS...: one batch on a fresh database; sets wall and rss_kb
run() {
    name=$1
    file=$2
    shift 2
    d=$dir/batch/$name
    rm -rf "$d"
    mkdir -p "$d"
    (cd "$ws" && XDG_DATA_HOME="$d/data" XDG_CONFIG_HOME="$d/config" \
        "$timebin" -o "$d/time" -f '%e %M' "$mcpdeck" --batch "$file" "$@" \
        >"$d/stdout" 2>"$d/stderr")
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "batch: $name run exited $rc; last lines of its output:" >&2
        tail -5 "$d/stderr" >&2
        return 1
    fi
    if ! grep -q "^${n_want} tasks: ${n_want} passed, 0 failed" "$d/stderr"; then
        echo "batch: $name run did not report ${n_want} tasks passed:" >&2
        tail -3 "$d/stderr" >&2
        return 1
    fi
    wall=$(tail -1 "$d/time" | cut -d' ' -f1)
    rss_kb=$(tail -1 "$d/time" | cut -d' ' -f2)
}

n_want=100
run warmup warmup.yaml || exit 1
n_want=$tasks
run text tasks.yaml || exit 1
text_wall=$wall text_rss=$rss_kb
run json tasks.yaml --format json -o "$dir/batch/report.json" || exit 1
json_wall=$wall json_rss=$rss_kb
"${NODE:-node}" -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (r.summary.succeeded !== Number(process.argv[2])) process.exit(1)' \
    "$dir/batch/report.json" "$tasks" 2>/dev/null || {
    echo "batch: the json report does not count $tasks succeeded tasks" >&2
    exit 1
}

verdict() {
    awk -v kb="$1" -v lim="$limit_mb" 'BEGIN { print (kb / 1024 <= lim) ? "met" : "MISSED" }'
}
echo
echo "Batch: $tasks tasks fs.list_directory (built-in fs) through mcpdeck --batch FILE"
printf '%-44s %10s  %s\n' figure mcpdeck target
line() {   # label value target verdict
    printf '%-44s %10s  %s %s\n' "$1" "$2" "$3" "$4"
    [ -n "${BENCH_SUMMARY:-}" ] &&
        printf 'batch %s\t%s\t-\t-\t-\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$BENCH_SUMMARY"
    return 0
}
for mode in text json; do
    if [ $mode = text ]; then w=$text_wall r=$text_rss label="text report (default)"
    else w=$json_wall r=$json_rss label="--format json -o FILE"; fi
    line "$label: wall s" "$w" "" ""
    line "$label: tasks/s" "$(awk -v n="$tasks" -v w="$w" 'BEGIN { printf "%.0f", n / w }')" "" ""
    line "$label: peak RSS MB" "$(awk -v k="$r" 'BEGIN { printf "%.1f", k / 1024 }')" \
        "<= $limit_mb MB" "$(verdict "$r")"
done
exit 0
