#!/bin/sh
# The optional shell built-in: absent unless enabled; argv only (no shell
# interpretation); only allowed programs; cwd inside the workspace; a
# timeout and an output cap; destructive, so unattended runs need
# tools.approve.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/ws/sub" && cd "$T/ws" || exit 1
git init -q . 2>/dev/null

"$MCPDECK" servers >list.out 2>&1
check "without shell.enabled there is no shell server" sh -c '! grep -q "^shell " list.out'

cat > mcpdeck.yaml <<'YAML'
shell: {enabled: true, allow: [echo, sleep, pwd, yes], timeout: 1500ms, max_output: 2KiB}
tools: {approve: ["shell.run"]}
YAML
"$MCPDECK" servers >list2.out 2>&1
check "with shell.enabled it is registered" grep -q "^shell " list2.out

"$MCPDECK" call shell run '{"argv": ["echo", "a b", "$HOME", "*"]}' >echo.out 2>&1
expect_exit "an allowed program runs" 0 $?
check "its arguments are passed as they are (no shell expansion)" grep -qx 'a b $HOME \*' echo.out
"$MCPDECK" call shell run '{"argv": ["pwd"], "cwd": "sub"}' >pwd.out 2>&1
check "cwd inside the workspace is honoured" grep -q "/ws/sub$" pwd.out
"$MCPDECK" call shell run '{"argv": ["pwd"], "cwd": "../.."}' >jail.out 2>&1
check "a cwd outside the workspace is refused" grep -q "outside the workspace root" jail.out
"$MCPDECK" call shell run '{"argv": ["rm", "-rf", "sub"]}' >rm.out 2>&1
check "a program not in shell.allow is refused and nothing runs" sh -c \
    "grep -q \"'rm' is not in shell.allow\" rm.out && [ -d sub ]"
"$MCPDECK" call shell run '{"argv": ["sleep", "10"]}' >sleep.out 2>&1
check "the timeout kills it" grep -q "killed after 1500 ms" sleep.out
"$MCPDECK" call shell run '{"argv": ["yes"]}' >yes.out 2>&1
check "output beyond shell.max_output is dropped, and said" grep -q "bytes of output dropped" yes.out
# a command gets mcpdeck's environment without its secrets
cat > env.yaml <<'YAML'
shell: {enabled: true, allow: [env]}
tools: {approve: ["shell.run"]}
YAML
MY_API_KEY=sk-not-for-commands-31 PLAIN_SETTING=shown-to-commands \
    "$MCPDECK" -c env.yaml call shell run '{"argv": ["env"]}' >env.out 2>&1
check "a command does not inherit a secret variable" sh -c '! grep -q "MY_API_KEY" env.out'
check "... but does the rest of the environment" grep -q "^PLAIN_SETTING=shown-to-commands" env.out

printf 'shell: {enabled: true, allow: [echo]}\n' >mcpdeck.yaml
printf -- '- {id: e, tool: shell.run, args: {argv: [echo, hi]}}\n' >b.yaml
"$MCPDECK" --batch b.yaml >b.out 2>&1
expect_exit "unattended, shell.run needs tools.approve" 1 $?
contains "the refusal names the setting" b.out "tools.approve"
printf 'shell: {enabled: true}\n' >mcpdeck.yaml
"$MCPDECK" servers >bad.out 2>&1
expect_exit "enabled without an allow list is a config error" 2 $?
contains "it says what to add" bad.out "shell.allow lists no program"
e2e_done
