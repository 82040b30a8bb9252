#!/bin/sh
# The client behaves per the protocol version a server negotiates: a
# server answering 2025-03-26 gets no outputSchema check (structured output
# came with 2025-06-18) and its elicitation requests are refused; a current
# server's output is checked. Also an unknown version is refused naming
# both (tests/e2e/faults.sh) and every supported version is accepted.
. "$(dirname "$0")/lib.sh"
BAD="$TOP/$BUILD/fixtures/badserver"
[ -x "$BAD" ] || BAD="$TOP/build/fixtures/badserver"
cd "$T" || exit 1
cat > mcpdeck.yaml <<YAML
servers:
  old: {command: "$BAD", args: [good], env: {BADSERVER_VERSION: "2025-03-26"}}
  new: {command: "$BAD", args: [good]}
  v0:  {command: "$BAD", args: [good], env: {BADSERVER_VERSION: "2024-11-05"}}
  v1:  {command: "$BAD", args: [good], env: {BADSERVER_VERSION: "2025-06-18"}}
YAML
cat > b.yaml <<YAML
- {id: old, tool: old.shaped, args: {ok: false}}
- {id: new, tool: new.shaped, args: {ok: false}}
YAML
"$MCPDECK" --batch b.yaml --format json -o r.json 2>/dev/null
check "2025-03-26: no outputSchema check; 2025-11-25: the mismatch fails the task" node -e '
const by = Object.fromEntries(require("./r.json").tasks.map(t => [t.id, t]));
if (by.old.status !== "succeeded" || by.new.status !== "failed" || !/outputSchema/.test(by.new.error)) {
  console.error(by); process.exit(1); }'
for s in v0 old v1 new; do
    "$MCPDECK" call "$s" echo >"$s.out" 2>&1
    expect_exit "a server negotiating its version ($s) is served" 0 $?
done
"$MCPDECK" servers --json >list.json 2>&1
check "every supported version is accepted" node -e '
const l = require("./list.json");
for (const n of ["v0", "old", "v1", "new"])
  if (l.find(s => s.name === n).state !== "ready") { console.error(l); process.exit(1); }'
e2e_done
