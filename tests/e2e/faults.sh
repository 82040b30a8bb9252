#!/bin/sh
# Misbehaving servers (tests/fixtures/badserver.c) are contained: the call
# gets a clear error, other servers and calls are unaffected, the program
# exits cleanly and leaves no child process behind.
. "$(dirname "$0")/lib.sh"
BAD="$TOP/$BUILD/fixtures/badserver"
[ -x "$BAD" ] || BAD="$TOP/build/fixtures/badserver"
cd "$T" || exit 1

cat > mcpdeck.yaml <<YAML
servers:
  good:        {command: "$BAD", args: [good]}
  garbage:     {command: "$BAD", args: [garbage]}
  crashcall:   {command: "$BAD", args: [crash-call]}
  hang:        {command: "$BAD", args: [hang], timeout: 1s}
  unknownid:   {command: "$BAD", args: [unknown-id]}
  huge:        {command: "$BAD", args: [huge]}
  slowstart:   {command: "$BAD", args: [slow-start]}
  crashinit:   {command: "$BAD", args: [crash-init]}
  closeout:    {command: "$BAD", args: [close-stdout], startup_timeout: 2s}
  badversion:  {command: "$BAD", args: [bad-version]}
  missing:     {command: /nonexistent/server}
YAML

cat > mixed.yaml <<YAML
- {id: good,      tool: good.echo}
- {id: garbage,   tool: garbage.echo}
- {id: crashcall, tool: crashcall.echo, retries: 2}
- {id: hang,      tool: hang.echo, retries: 1}
- {id: unknownid, tool: unknownid.echo}
- {id: huge,      tool: huge.echo, retries: 1}
- {id: slowstart, tool: slowstart.echo}
- {id: good2,     tool: good.slow}
YAML
"$MCPDECK" --batch mixed.yaml --format json >mixed.json 2>mixed.err
expect_exit "a batch with failing servers exits 1, not a crash" 1 $?
check "each fault is contained with a clear error; the rest succeed" node -e '
const r = JSON.parse(require("fs").readFileSync("mixed.json", "utf8"));
const by = Object.fromEntries(r.tasks.map(t => [t.id, t]));
const want = (id, st, re) => {
  const t = by[id];
  if (t.status !== st || (re && !re.test(t.error || t.result || ""))) {
    console.error(id, JSON.stringify(t)); process.exit(1); }
};
want("good", "succeeded", /echo from badserver/);
want("garbage", "succeeded", /echo from badserver/);
want("crashcall", "failed", /signal 6|exited|closed/);
want("hang", "failed", /no answer within 1000 ms/);
want("unknownid", "succeeded", /right id/);
want("huge", "failed", /over \d+ bytes/);
want("slowstart", "succeeded", /echo from badserver/);
want("good2", "succeeded", /slow done/);
if (by.crashcall.attempts !== 2) { console.error("crashcall attempts", by.crashcall.attempts); process.exit(1); }
'

for s in crashinit closeout badversion missing; do
    printf -- "- tool: %s.echo\n" "$s" > one.yaml
    "$MCPDECK" --batch one.yaml >/dev/null 2>"$s.err"
    expect_exit "server $s never ready: exit 3" 3 $?
done
contains "crash after initialize is explained" crashinit.err "exited with status 3"
contains "closed stdout is explained" closeout.err "server closed its stdout"
contains "unknown protocol version names both versions" badversion.err "1999-01-01; mcpdeck speaks 2025-11-25"
contains "missing command is explained" missing.err "cannot run /nonexistent/server"

# a server that writes its last answer without the newline and exits: the
# answer still counts (the end of its stdout ends the line)
cat > lastnl.yaml <<YAML
servers:
  lastnl: {command: "$BAD", args: [last-no-newline]}
YAML
"$MCPDECK" -c lastnl.yaml call lastnl echo '{}' >lastnl.out 2>lastnl.err
expect_exit "an answer without its newline before exit is not lost: exit 0" 0 $?
contains "... and it is printed" lastnl.out "my last words"

# a server that closes its stdin but keeps running: the first write that
# finds the pipe closed ends the session at once (it waited for the 30 s
# startup timeout, and calls for theirs)
cat > closein.yaml <<YAML
servers:
  closein: {command: "$BAD", args: [close-stdin]}
YAML
timeout 20 "$MCPDECK" -c closein.yaml call closein echo '{}' >closein.out 2>closein.err
expect_exit "a server that closed its stdin fails fast: exit 3" 3 $?
contains "... and the error says why" closein.err "server closed its stdin"

# resources/subscribe, then notifications/resources/updated
timeout 20 "$MCPDECK" subscribe good test://doc --count 3 >sub.out 2>&1
expect_exit "subscribe ends after the updates asked for" 0 $?
check "three updates printed" [ "$(grep -c '^updated test://doc' sub.out)" -eq 3 ]
"$MCPDECK" subscribe fs file:///x --count 1 >sub2.out 2>&1
expect_exit "subscribe to a server without resources is refused" 3 $?
contains "the refusal names the capability" sub2.out "does not advertise the 'resources.subscribe' capability"

# servers check: a health round over every server
"$MCPDECK" servers check >check.out 2>&1
expect_exit "servers check exits 1 when some server is unhealthy" 1 $?
check "healthy and unhealthy servers with latency" sh -c \
    "grep -Eq '^good +stdio +ready +healthy +[0-9]+ms +closed +ping answered' check.out && grep -Eq '^crashinit +stdio +failed +unhealthy .*exited with status 3' check.out && grep -Eq '^fs +builtin +ready +healthy' check.out"
check "every check is kept in the health history" sh -c \
    "[ \$(sqlite3 data/mcpdeck/mcpdeck.db \"SELECT COUNT(*) FROM servers_health WHERE server='good' AND state='check-ok' AND latency_ms >= 0\") -ge 1 ] && [ \$(sqlite3 data/mcpdeck/mcpdeck.db \"SELECT COUNT(*) FROM servers_health WHERE server='crashinit' AND state='unhealthy'\") -ge 1 ]"

# SIGTERM or SIGINT while one-shot commands wait for a server to start (a
# mute one that ignores the end of its stdin): the servers are stopped, not
# left running, and the exit code is 130 (interrupted, as --batch has it)
cat > mute.yaml <<YAML
data_dir: $T/mute-data
servers:
  mute: {command: "$BAD", args: [mute], startup_timeout: 30s}
YAML
printf -- "- tool: mute.echo\n" > mute-batch.yaml
# interrupt SIG NAME CMD...: start CMD, signal it once the server runs,
# then it must exit with 130 within 10 s and leave no mute server
interrupt() {
    sig=$1 name=$2
    shift 2
    "$@" >"$name.out" 2>"$name.err" &
    pid=$!
    i=0
    while [ "$(count_procs "$BAD mute" "$T")" -eq 0 ] && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1)); done
    sleep 0.3
    kill -"$sig" $pid
    i=0
    while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 $pid 2>/dev/null; then
        fail "$name: $sig ends it within 10 s" "still running"
        kill -KILL $pid
        wait $pid
    else
        wait $pid
        expect_exit "$name: $sig while the server starts exits 130" 130 $?
    fi
    left=$(count_procs "$BAD mute" "$T")
    check "... and leaves no server running ($name)" [ "$left" -eq 0 ]
    for p in $(pgrep -f "$BAD mute"); do     # what a failed run left: only ours
        [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$T" ] && kill "$p"
    done
}
interrupt TERM call-term "$MCPDECK" -c mute.yaml call mute echo '{}'
contains "... saying it was interrupted" call-term.err "interrupted (SIGTERM)"
# (a shell starts a background command with SIGINT ignored, and mcpdeck
# keeps it so: env gives it back its default, as for a foreground command)
interrupt INT call-int env --default-signal=INT "$MCPDECK" -c mute.yaml call mute echo '{}'
interrupt TERM check-term "$MCPDECK" -c mute.yaml servers check
interrupt INT batch-int env --default-signal=INT "$MCPDECK" -c mute.yaml --batch mute-batch.yaml
contains "... the batch saying nothing ran" batch-int.err "interrupted while the servers started"

# a server that floods progress (100,000 notifications for one call): the
# job sees every one, the store keeps a few (the first and the last), not
# a row per notification
cat > flood.yaml <<YAML
servers:
  flood: {command: "$BAD", args: [progress-flood]}
YAML
echo '- {id: flood, tool: flood.echo}' >flood-batch.yaml
"$MCPDECK" -c flood.yaml --batch flood-batch.yaml --format json >flood.json 2>flood.err
expect_exit "a call under a flood of progress succeeds" 0 $?
job=$(node -e 'console.log(JSON.parse(require("fs").readFileSync("flood.json", "utf8")).tasks[0].job)')
"$MCPDECK" -c flood.yaml jobs show "$job" --json >flood-job.json 2>&1
check "... every notification reached the job; the store holds a few, the last included" node -e '
const r = JSON.parse(require("fs").readFileSync("flood.json", "utf8")).tasks[0];
const j = JSON.parse(require("fs").readFileSync("flood-job.json", "utf8"));
const p = j.events.filter(e => e.kind === "progress").map(e => e.data.progress);
if (r.progress.events !== 100000 || r.progress.last !== 100000 || p.length > 1000 ||
    p[0] !== 1 || p[p.length - 1] !== 100000) {
  console.error(JSON.stringify(r.progress), p.length, p.slice(0, 3), p.slice(-3));
  process.exit(1); }'

# lists that never end: stopped at 1,000 pages (or at a repeated cursor),
# what came is kept and the server is usable, not failed at its startup
# timeout (a minute by default: the 5 s here would show it)
cat > pages.yaml <<YAML
servers:
  endless: {command: "$BAD", args: [endless-pages], startup_timeout: 5s}
  same:    {command: "$BAD", args: [same-cursor], startup_timeout: 5s}
YAML
"$MCPDECK" -c pages.yaml servers tools endless >endless.out 2>endless.err
expect_exit "a tools/list that never ends: the server still comes up" 0 $?
check "... with the first 1000 pages' tools" [ "$(awk '{print $1}' endless.out | sort -u | wc -l)" -eq 1000 ]
"$MCPDECK" -c pages.yaml servers resources endless >endless-res.out 2>&1
check "... and resources/list too" [ "$(grep -c 'test://' endless-res.out)" -eq 1000 ]
"$MCPDECK" -c pages.yaml servers log endless >endless.log 2>&1
contains "... and the server's log says why" endless.log \
    "[mcpdeck] tools/list went on past 1000 pages; stopped there, keeping 1000 items"
"$MCPDECK" -c pages.yaml call endless echo '{}' >endless-call.out 2>&1
contains "... and its tools can be called" endless-call.out "echo from badserver"
"$MCPDECK" -c pages.yaml servers tools same >same.out 2>&1
expect_exit "a list that repeats its cursor ends there" 0 $?
check "... keeping the two pages it had" [ "$(awk '{print $1}' same.out | tr '\n' ' ')" = "echo tool-1 " ]

# a server that stops reading its stdin for good: what waits for it is
# bounded (4 x max_message, at least 1 MiB); past that the session ends,
# every call in flight fails saying so, and the server is stopped
big=$(head -c 600000 /dev/zero | tr '\0' a)
cat > deaf.yaml <<YAML
servers:
  deaf: {command: "$BAD", args: [deaf], max_message: 64KiB, timeout: 60s}
YAML
for i in 1 2 3 4; do echo "- {id: d$i, tool: deaf.echo, retries: 1, args: {text: $big}}"; done >deaf-batch.yaml
timeout 30 "$MCPDECK" -c deaf.yaml --batch deaf-batch.yaml --format json >deaf.json 2>deaf.err
expect_exit "a server that stopped reading: the batch ends (exit 1), not at the timeout" 1 $?
check "... its calls fail saying it stopped reading" node -e '
const r = JSON.parse(require("fs").readFileSync("deaf.json", "utf8"));
const why = r.tasks.filter(t => /server stopped reading its stdin: over 1048576 bytes waited/.test(t.error));
if (why.length < 1 || r.tasks.some(t => t.status === "succeeded")) {
  console.error(JSON.stringify(r.tasks.map(t => [t.id, t.status, t.error]))); process.exit(1); }'

# a server that floods notifications as fast as it can write: timers
# still fire (its call ends at its timeout) and another server's call
# still succeeds beside it
cat > chatter.yaml <<YAML
servers:
  chatter: {command: "$BAD", args: [chatter]}
  good:    {command: "$BAD", args: [good]}
YAML
printf -- '- {id: c, tool: chatter.echo, timeout: 2s, retries: 1}\n- {id: g, tool: good.slow}\n' \
    >chatter-batch.yaml
timeout 60 "$MCPDECK" -c chatter.yaml --batch chatter-batch.yaml --format json >chatter.json \
    2>chatter.err
expect_exit "a server flooding notifications: the batch ends (exit 1)" 1 $?
check "... its call ends at its timeout, the other server's call succeeds" node -e '
const r = JSON.parse(require("fs").readFileSync("chatter.json", "utf8"));
const by = Object.fromEntries(r.tasks.map(t => [t.id, t]));
if (!/within (the maximum of )?2000 ms/.test(by.c.error) || by.g.result !== "slow done") {
  console.error(JSON.stringify(r.tasks)); process.exit(1); }'

sleep 0.3
left=$(count_procs "$BAD" "$T")
check "no badserver process is left behind" [ "$left" -eq 0 ]
e2e_done
