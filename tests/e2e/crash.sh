#!/bin/sh
# Crash safety: a batch of 200 tasks is killed with SIGKILL at random
# moments, 20 times, and resumed each time; in the end every task finished
# exactly once as succeeded, interrupted attempts are recorded, and the
# database passes PRAGMA integrity_check.
. "$(dirname "$0")/lib.sh"
BAD="$TOP/$BUILD/fixtures/badserver"
mkdir -p "$T/w" && cd "$T/w" || exit 1
cat > mcpdeck.yaml <<YAML
queue: {concurrency: 8}
servers:
  bad: {command: "$BAD", args: [good]}
YAML
i=1
: > crash.yaml
while [ $i -le 200 ]; do
    printf -- '- {id: t%03d, tool: bad.nap, args: {ms: %d}}\n' $i $((20 + i % 7 * 10)) >> crash.yaml
    i=$((i + 1))
done
DB="$XDG_DATA_HOME/mcpdeck/mcpdeck.db"
kills=0
round=0
while [ $round -lt 20 ]; do
    "$MCPDECK" --batch crash.yaml --resume >/dev/null 2>>runs.err &
    pid=$!
    # a pseudo-random moment between 0.05 and 0.6 s (seeded by the pid)
    ms=$(( 50 + ($$ * 7 + round * 7919) % 550 ))
    sleep "$(printf '0.%03d' "$ms")"
    if kill -KILL $pid 2>/dev/null; then kills=$((kills + 1)); fi
    wait $pid 2>/dev/null
    round=$((round + 1))
done
"$MCPDECK" --batch crash.yaml --resume --format json >final.json 2>final.err
expect_exit "the resumed batch completes" 0 $?
check "SIGKILL landed at least 15 times mid-run" [ "$kills" -ge 15 ]
B="$(pwd)/crash.yaml"
check "every task has exactly one job" sh -c \
    "[ \"\$(sqlite3 '$DB' \"select count(*), count(distinct key) from jobs where batch='$B'\")\" = '200|200' ]"
check "every job succeeded" sh -c \
    "[ \"\$(sqlite3 '$DB' \"select count(*) from jobs where batch='$B' and status='succeeded'\")\" = 200 ]"
check "every job has its attempts recorded, the last one succeeded" sh -c \
    "[ \"\$(sqlite3 '$DB' \"select count(*) from jobs j where batch='$B' and j.attempts = (select count(*) from attempts a where a.job_id=j.id) and (select outcome from attempts a where a.job_id=j.id order by n desc limit 1)='succeeded'\")\" = 200 ]"
interrupted=$(sqlite3 "$DB" "select count(*) from attempts a join jobs j on j.id=a.job_id where j.batch='$B' and a.outcome='interrupted'")
check "interrupted attempts were recorded ($interrupted)" [ "$interrupted" -ge 1 ]
check "the database passes integrity_check" sh -c "[ \"\$(sqlite3 '$DB' 'pragma integrity_check')\" = ok ]"
check "the final report lists 200 passed tasks" node -e '
const r = JSON.parse(require("fs").readFileSync("final.json", "utf8"));
if (r.summary.passed !== 200) { console.error(r.summary); process.exit(1); }'
sleep 0.3
check "no server process is left behind" [ "$(count_procs "$BAD" "$T/w")" -eq 0 ]
e2e_done
