#!/bin/sh
# End to end: the built-in git server through `mcpdeck call` on a real
# repository (status and diff byte for byte as git prints them, log, show,
# blame, branches), the fs tools that write, and the tool policy for
# direct calls: a destructive call in a batch or `call` is refused naming
# tools.approve (batch exits 1 with the reason) and runs once the config
# allows it; tools.deny refuses anything. Every job records provenance.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/repo" && cd "$T/repo" || exit 1
export GIT_AUTHOR_NAME="Ann Author" GIT_AUTHOR_EMAIL=ann@example.invalid \
    GIT_COMMITTER_NAME="Ann Author" GIT_COMMITTER_EMAIL=ann@example.invalid
git -c init.defaultBranch=main init -q . &&
    printf 'one\ntwo\nthree\n' >a.txt && printf 'keep\n' >b.txt && git add -A &&
    git commit -qm "first commit" && printf 'one\nTWO\nthree\n' >a.txt &&
    printf 'new\n' >c.txt && git add c.txt && printf 'u\n' >untracked.txt || exit 1

# text of a call's result (the CLI prints the result text); outputs go to
# $O, outside the repository, so that they do not show in its status
O="$T/out"
mkdir -p "$O"
text() { "$MCPDECK" call "$@" 2>"$O/call.err"; }

text git status '{}' >"$O/status.out"
expect_exit "mcpdeck call git status exits 0" 0 $?
git status --porcelain -b >"$O/status.want"
check "git.status prints what git status --porcelain -b prints" cmp -s "$O/status.out" "$O/status.want"
text git diff '{}' >"$O/diff.out"
git diff >"$O/diff.want"
check "git.diff is git diff, byte for byte" cmp -s "$O/diff.out" "$O/diff.want"
text git diff '{"staged":true}' >"$O/cached.out"
git diff --cached >"$O/cached.want"
check "git.diff staged is git diff --cached" cmp -s "$O/cached.out" "$O/cached.want"
text git log '{}' >"$O/log.out"
contains "git.log names the commit" "$O/log.out" "$(git rev-parse --short=12 HEAD) "
contains "git.log has the subject" "$O/log.out" "Ann Author: first commit"
text git show '{}' >"$O/show.out"
git show >"$O/show.want"
check "git.show is git show" cmp -s "$O/show.out" "$O/show.want"
text git blame '{"path":"a.txt","start_line":2,"end_line":2}' >"$O/blame.out"
contains "git.blame names the line's commit" "$O/blame.out" "$(git rev-parse --short=12 HEAD) (Ann Author"
text git branches '{}' >"$O/branches.out"
contains "git.branches marks the current branch" "$O/branches.out" "* main "
"$MCPDECK" call git blame '{"path":"../x"}' >"$O/bad.out" 2>&1
expect_exit "a refused argument fails the call" 1 $?
"$MCPDECK" servers tools git >"$O/tools.out" 2>&1
contains "the git server lists its tools" "$O/tools.out" "status"

# === tool policy for direct calls ===
"$MCPDECK" call fs write_file '{"path":"w.txt","content":"hi\n"}' >"$O/w.out" 2>&1
expect_exit "a destructive call without tools.approve is refused (the call is not made)" 3 $?
contains "the refusal names tools.approve" "$O/w.out" "tools.approve"
check "nothing was written" test ! -e w.txt
cat >policy.yaml <<'YAML'
tasks:
  - id: look
    tool: fs.read_text_file
    args: {path: a.txt}
  - id: edit
    tool: fs.edit_file
    args: {path: a.txt, old_text: TWO, new_text: two}
YAML
"$MCPDECK" --batch policy.yaml --format json -o "$O/policy.json" >"$O/policy.out" 2>&1
expect_exit "a batch with a refused destructive call exits 1" 1 $?
check "the batch report gives the reason" node -e '
const t = require(process.argv[1]).tasks.find(t => t.id === "edit");
if (!t || !/fs\.edit_file is destructive and needs an explicit allow.*tools\.approve/.test(t.error)) {
  console.error(JSON.stringify(t)); process.exit(1); }' "$O/policy.json"
check "a.txt is unchanged" grep -qx TWO a.txt
printf 'tools: {approve: ["fs.edit_file", "fs.write_file"]}\n' >mcpdeck.yaml
"$MCPDECK" --batch policy.yaml >"$O/policy2.out" 2>&1
expect_exit "with tools.approve the batch runs the edit" 0 $?
check "a.txt was edited" grep -qx two a.txt
"$MCPDECK" call fs write_file '{"path":"w.txt","content":"hi\n"}' >"$O/w2.out" 2>&1
expect_exit "call runs an approved destructive tool" 0 $?
check "w.txt was written" grep -qx hi w.txt
"$MCPDECK" call fs edit_file '{"path":"w.txt","old_text":"h","new_text":"H"}' >"$O/e.out" 2>&1
expect_exit "edit_file with one match" 0 $?
contains "edit_file answers the diff" "$O/e.out" "+Hi"
printf 'x\nx\n' >twice.txt
"$MCPDECK" call fs edit_file '{"path":"twice.txt","old_text":"x","new_text":"y"}' >"$O/e2.out" 2>&1
expect_exit "edit_file with two matches fails" 1 $?
contains "edit_file says how many matched" "$O/e2.out" "matches 2 times"
printf 'tools: {deny: ["git.*"], approve: ["fs.*"]}\n' >mcpdeck.yaml
"$MCPDECK" call git status '{}' >"$O/deny.out" 2>&1
expect_exit "a denied tool is refused" 3 $?
contains "the refusal names tools.deny" "$O/deny.out" "tools.deny"
rm mcpdeck.yaml

# === provenance ===
"$MCPDECK" jobs list --format json >"$O/list.json" 2>/dev/null
ID=$(node -e 'const l = require(process.argv[1]); const j = l.find(j => j.key === "look");
console.log(j ? j.id : 0)' "$O/list.json")
"$MCPDECK" jobs show "$ID" --format json >"$O/show.json" 2>/dev/null
check "a job records its provenance: root, HEAD, dirty" node -e '
const j = require(process.argv[3]);
const ev = (j.events || []).find(e => e.kind === "provenance");
const d = ev && (typeof ev.data === "string" ? JSON.parse(ev.data) : ev.data);
if (!d || d.root !== process.argv[1] || d.head !== process.argv[2] || d.dirty !== true) {
  console.error(JSON.stringify(j.events)); process.exit(1); }' "$T/repo" "$(git rev-parse HEAD)" "$O/show.json"
e2e_done
