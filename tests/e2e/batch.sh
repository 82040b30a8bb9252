#!/bin/sh
# End to end: the real binary runs batch files against real MCP servers
# from npm (server-everything, server-filesystem) and the built-in fs.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/work/sub"
echo "hello notes" > "$T/work/notes.txt"
cd "$T/work" || exit 1
cat > mcpdeck.yaml <<YAML
servers:
  everything:
    command: node
    args: ["$EVERYTHING", stdio]
  filesystem:
    command: node
    args: ["$FILESYSTEM", "\${WORKDIR}"]
YAML
export WORKDIR="$T/work"

cat > good.yaml <<YAML
tasks:
  - id: echo
    tool: everything.echo
    args: {message: "hello from mcpdeck"}
  - id: sum
    tool: everything.get-sum
    args: {a: 2, b: 40}
  - id: ls
    tool: filesystem.list_directory
    args: {path: "$T/work"}
  - id: read
    tool: fs.read_text_file
    args: {path: notes.txt}
  - id: fsls
    tool: fs.list_directory
    args: {path: .}
YAML
"$MCPDECK" --batch good.yaml --format json >out.json 2>err.txt
expect_exit "batch of 5 tasks against real servers exits 0" 0 $?
check "json report is valid and complete" node -e '
const r = JSON.parse(require("fs").readFileSync("out.json", "utf8"));
const by = Object.fromEntries(r.tasks.map(t => [t.id, t]));
const want = (c, m) => { if (!c) { console.error(m); process.exit(1); } };
want(r.summary.total === 5 && r.summary.succeeded === 5, "summary " + JSON.stringify(r.summary));
want(r.tasks.every(t => t.status === "succeeded" && t.attempts === 1), "statuses");
want(by.echo.result.includes("hello from mcpdeck"), "echo: " + by.echo.result);
want(by.sum.result.includes("42"), "sum: " + by.sum.result);
want(by.ls.result.includes("notes.txt") && by.ls.result.includes("sub"), "ls: " + by.ls.result);
want(by.read.result.includes("hello notes"), "read: " + by.read.result);
want(by.fsls.result.includes("notes.txt"), "fsls: " + by.fsls.result);
'
contains "human summary on stderr" err.txt "5 tasks: 5 passed, 0 failed"

# The results are durable: a second process sees them in the store.
check "database has the 5 succeeded jobs" sh -c \
    "[ \"\$(sqlite3 '$XDG_DATA_HOME/mcpdeck/mcpdeck.db' \"select count(*) from jobs where status='succeeded'\")\" = 5 ]"

# A failing task makes the batch exit 1, the others still succeed.
cat > failing.yaml <<YAML
- id: fine
  tool: everything.echo
  args: {message: ok}
- id: escape
  tool: fs.read_text_file
  args: {path: ../../../../etc/passwd}
YAML
"$MCPDECK" --batch failing.yaml --format json >fail.json 2>fail.err
expect_exit "a failing task gives exit 1" 1 $?
check "the failure is reported with its reason, the rest succeeded" node -e '
const r = JSON.parse(require("fs").readFileSync("fail.json", "utf8"));
const by = Object.fromEntries(r.tasks.map(t => [t.id, t]));
if (by.fine.status !== "succeeded") process.exit(1);
if (by.escape.status !== "failed" || !/outside the workspace/.test(by.escape.error)) {
  console.error(JSON.stringify(by.escape)); process.exit(1); }
'

# Invalid input: exit 2 with file:line:column, nothing runs.
before=$(sqlite3 "$XDG_DATA_HOME/mcpdeck/mcpdeck.db" "select count(*) from jobs")
cat > bad.yaml <<YAML
tasks:
  - id: one
    tool: everything.echo
    argz: {message: typo}
YAML
"$MCPDECK" --batch bad.yaml 2>bad.err
expect_exit "unknown key gives exit 2" 2 $?
contains "error names file:line:column" bad.err "bad.yaml:4:5: unknown key 'argz'"
after=$(sqlite3 "$XDG_DATA_HOME/mcpdeck/mcpdeck.db" "select count(*) from jobs")
check "nothing was queued for an invalid batch" [ "$before" = "$after" ]

printf -- '- tool: nosuch.tool\n' > bad2.yaml
"$MCPDECK" --batch bad2.yaml 2>bad2.err
expect_exit "unknown server gives exit 2" 2 $?
contains "unknown server named with position" bad2.err "bad2.yaml:1:9: unknown server 'nosuch'"

printf -- '- tool: everything.nosuchtool\n' > bad3.yaml
"$MCPDECK" --batch bad3.yaml 2>bad3.err
expect_exit "unknown tool gives exit 2" 2 $?
contains "unknown tool named" bad3.err "server everything has no tool 'nosuchtool'"

printf -- '- tool: fs.read_text_file\n  args: {path: "x"\n' > bad4.yaml
"$MCPDECK" --batch bad4.yaml 2>bad4.err
expect_exit "YAML syntax error gives exit 2" 2 $?
contains "syntax error has a position" bad4.err "bad4.yaml:"

# a directory, or a file too large to be a batch (a log, /dev/zero): a
# clear error and exit 2 without reading it all into memory first
mkdir -p adir
"$MCPDECK" --batch adir 2>dir.err
expect_exit "a batch file that is a directory gives exit 2" 2 $?
contains "... and says it is a directory" dir.err "cannot read adir: Is a directory"
truncate -s 65M huge.yaml
"$MCPDECK" --batch huge.yaml 2>huge.err
expect_exit "a 65 MB batch file gives exit 2" 2 $?
contains "... and says it is too large" huge.err "cannot read huge.yaml: larger than 64 MB"
"$MCPDECK" -c huge.yaml servers 2>hugec.err
expect_exit "a 65 MB config file gives exit 2" 2 $?
contains "... and says it is too large" hugec.err "cannot read config huge.yaml: larger than 64 MB"
rm -f huge.yaml

# stdin works too
printf -- '- tool: fs.read_text_file\n  args: {path: notes.txt}\n' |
    "$MCPDECK" --batch - --format json >stdin.json 2>/dev/null
expect_exit "batch from stdin" 0 $?
contains "stdin batch result" stdin.json "hello notes"

# A request larger than a pipe holds (64 KiB) reaches a stdio server over
# many writes, each waiting for the pipe to drain (this crashed once the
# pipe had filled up twice), and its 2 MB answer comes back whole.
node -e 'process.stdout.write("tasks:\n  - id: big\n    tool: everything.echo\n" +
    "    args: {message: \"" + "x".repeat(2000000) + "\"}\n")' > big.yaml
"$MCPDECK" --batch big.yaml --format json >big.json 2>big.err
expect_exit "a 2 MB request to a stdio server" 0 $?
check "its 2 MB echo comes back whole" node -e '
    const r = JSON.parse(require("fs").readFileSync("big.json", "utf8")).tasks[0];
    process.exit(r.result === "Echo: " + "x".repeat(2000000) ? 0 : 1)'

# call and servers
"$MCPDECK" call everything echo '{"message":"direct call"}' >call.out 2>call.err
expect_exit "call exits 0" 0 $?
contains "call prints the text content" call.out "direct call"
"$MCPDECK" call fs read_text_file '{"path":"/etc/passwd"}' >call2.out 2>&1
expect_exit "call of a tool that reports isError exits 1" 1 $?
contains "isError text printed" call2.out "outside the workspace"
"$MCPDECK" call everything echo 'not json' >/dev/null 2>call3.err
expect_exit "call with bad JSON exits 2" 2 $?
"$MCPDECK" servers >servers.out 2>&1
expect_exit "servers exits 0" 0 $?
check "servers lists fs, everything and filesystem as ready" sh -c \
    "grep -Eq '^fs +builtin +ready +11' servers.out && grep -Eq '^everything +stdio +ready' servers.out && grep -Eq '^filesystem +stdio +ready' servers.out"

# No server process is left behind by any of the runs above.
sleep 0.3
left=$(count_procs "$EVERYTHING" "$T/work")
check "no orphaned server processes" [ "$left" -eq 0 ]

e2e_done
