#!/bin/sh
# End to end: shell integration. `mcpdeck __complete` on a real store
# (servers from the config, the built-ins and those added at run time; job
# ids newest first; tools of built-ins and from past jobs; namespaces,
# models, the fixed vocabularies), without starting any server and without
# creating a database; the bash script driven through COMP_WORDS; the zsh
# script parsed, autoloaded by compinit and driven with the completion
# system's functions replaced; the fish script through `complete -C`; the
# man page rendering without warnings. The subcommands `mcpdeck --help`
# lists must be offered by each script and described in the man page.
. "$(dirname "$0")/lib.sh"

COMPL="$TOP/completions"
mkdir -p "$T/work" "$T/bin" && cd "$T/work" || exit 1
# the scripts run `mcpdeck`, found on PATH
ln -s "$MCPDECK" "$T/bin/mcpdeck"
PATH="$T/bin:$PATH"
export PATH

# A real job in the store, from a batch on the default config.
cat > tasks.yaml <<'YAML'
tasks:
  - id: ls
    tool: fs.list_directory
    args: {path: .}
YAML
"$MCPDECK" --batch tasks.yaml >batch.out 2>&1
expect_exit "a batch leaves a job in the store" 0 $?
DB="$XDG_DATA_HOME/mcpdeck/mcpdeck.db"

# Now a project config whose stdio server would leave a mark if started.
cat > starter.sh <<EOF
#!/bin/sh
touch "$T/work/started"
exec sleep 5
EOF
chmod +x starter.sh
cat > mcpdeck.yaml <<EOF
providers:
  local: {type: openai, base_url: "http://127.0.0.1:9/v1"}
models:
  tiny: {provider: local, model: tiny-1}
aliases: {small: tiny}
memory:
  namespaces: [coding, scratchpad]
servers:
  alpha:
    command: $T/work/starter.sh
  beta:
    url: http://127.0.0.1:9/mcp
EOF
# Run-time registry changes and more jobs, written as mcpdeck writes them.
sqlite3 "$DB" <<'SQL'
INSERT INTO servers_runtime (name, spec_json, enabled, updated_ms)
    VALUES ('gamma', '{"url": "http://127.0.0.1:9/g"}', NULL, 0), ('alpha', NULL, 0, 0);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 60)
INSERT INTO jobs (server, tool, args_json, status, max_attempts, timeout_ms, created_ms)
    SELECT 'alpha', 'frob', '{}', 'failed', 1, 1000, 0 FROM c;
INSERT INTO jobs (kind, server, tool, args_json, status, max_attempts, timeout_ms, created_ms)
    VALUES ('model', NULL, 'review', '{"prompt": "check the staged diff\nfor leaks"}',
            'queued', 1, 1000, 0);
SQL
NEWEST=$(sqlite3 "$DB" 'SELECT MAX(id) FROM jobs')
LSID=$(sqlite3 "$DB" "SELECT id FROM jobs WHERE tool = 'list_directory'")

# === __complete ===

"$MCPDECK" __complete servers >servers.out 2>servers.err
expect_exit "__complete servers exits 0" 0 $?
check "__complete servers: config, built-ins, then run-time ones, in order" \
    test "$(cut -f1 servers.out | tr '\n' ' ')" = "alpha beta fs git memory gamma "
contains "__complete servers: a disabled server says so" servers.out "$(printf 'alpha\tstdio (disabled)')"
contains "__complete servers: an http server shows its url" servers.out "$(printf 'beta\thttp http://127.0.0.1:9/mcp')"
check "__complete servers: no shell unless shell.enabled" sh -c '! grep -q "^shell" servers.out'
"$MCPDECK" __complete servers g >sg.out
check "__complete servers PREFIX filters" test "$(cut -f1 sg.out | tr '\n' ' ')" = "git gamma "
printf 'shell: {enabled: true, allow: [echo]}\n' >shell.yaml
"$MCPDECK" -c shell.yaml __complete servers >shell.out
contains "__complete servers: shell when enabled" shell.out "$(printf 'shell\tbuilt-in')"
check "__complete started no server" test ! -e "$T/work/started"

"$MCPDECK" __complete jobs >jobs.out
expect_exit "__complete jobs exits 0" 0 $?
check "__complete jobs: at most 50" test "$(wc -l <jobs.out)" -eq 50
check "__complete jobs: newest first" test "$(head -n1 jobs.out | cut -f1)" = "$NEWEST"
contains "__complete jobs: a model job shows its type and prompt, on one line" jobs.out \
    "$(printf '%s\tqueued review: check the staged diff for leaks' "$NEWEST")"
contains "__complete jobs: a tool job shows server.tool" jobs.out "$(printf '\tfailed alpha.frob')"
"$MCPDECK" __complete jobs "$LSID" >jl.out
contains "__complete jobs PREFIX: an old job is found by its id" jl.out \
    "$(printf '%s\tsucceeded fs.list_directory' "$LSID")"
check "__complete jobs PREFIX: only ids starting with it" \
    sh -c "! cut -f1 jl.out | grep -v '^$LSID'"

"$MCPDECK" __complete tools fs >tfs.out
contains "__complete tools fs: from the built-in's table" tfs.out "$(printf 'read_text_file\t')"
"$MCPDECK" __complete tools alpha >ta.out
contains "__complete tools: a configured server's tools from its past jobs" ta.out \
    "$(printf 'frob\tcalled before')"
"$MCPDECK" __complete tools git d >tgd.out
check "__complete tools SERVER PREFIX" test "$(cut -f1 tgd.out)" = "diff"
"$MCPDECK" __complete tools beta >tb.out
check "__complete tools: nothing known about an unused server" test ! -s tb.out

"$MCPDECK" __complete namespaces >ns.out
check "__complete namespaces: from the config" test "$(tr '\n' ' ' <ns.out)" = "coding scratchpad "
"$MCPDECK" __complete models >models.out
contains "__complete models: aliases" models.out "$(printf 'small\talias of tiny')"
contains "__complete models: models" models.out "$(printf 'tiny\tlocal tiny-1')"
"$MCPDECK" __complete themes >themes.out
check "__complete themes" test "$(cut -f1 themes.out | tr '\n' ' ')" = "dark light high-contrast mono "
# every theme offered is one mcpdeck has
for th in $(cut -f1 themes.out); do
    check "theme $th exists" test -f "$TOP/themes/$th.yaml"
done
"$MCPDECK" __complete formats >formats.out
check "__complete formats" test "$(cut -f1 formats.out | tr '\n' ' ')" = "text json jsonl junit md "
"$MCPDECK" __complete task-types >tt.out
check "__complete task-types: the catalog's" \
    test "$(tr '\n' ' ' <tt.out)" = "generate refactor debug review document test deploy "
"$MCPDECK" __complete capabilities fi >caps.out
check "__complete capabilities PREFIX" test "$(cat caps.out)" = "file_operations"
"$MCPDECK" __complete bogus >bogus.out 2>bogus.err
expect_exit "__complete with an unknown kind exits 2" 2 $?
contains "__complete unknown kind: says which" bogus.err "unknown kind 'bogus'"
mkdir -p "$T/empty"
"$MCPDECK" --data-dir "$T/empty" __complete jobs >nodb.out 2>&1
expect_exit "__complete jobs without a database exits 0" 0 $?
check "__complete jobs without a database: nothing, and no database made" \
    sh -c "test ! -s nodb.out && test ! -e '$T/empty/mcpdeck.db'"

# The subcommands `mcpdeck --help` lists (the usage text is the reference).
"$MCPDECK" --help | sed -n 's/^ *\(usage:\)\{0,1\} *mcpdeck \[OPTIONS\] \([a-z][a-z]*\).*/\2/p' |
    sort -u >help_cmds
check "--help lists subcommands" test "$(wc -l <help_cmds)" -ge 10

# every line of help_cmds is in FILE (one word a line)
covers() {
    missing=$(sort -u "$1" | comm -23 help_cmds -)
    if [ -z "$missing" ]; then return 0; fi
    echo "# missing: $missing"
    return 1
}

# === bash ===

# bashc WORD...: the candidates _mcpdeck offers for the last WORD
bashc() {
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mcpdeck
             printf "%s\n" "${COMPREPLY[@]}"' bashc "$COMPL/mcpdeck.bash" "$@"
}
bashc mcpdeck se >b1
check "bash: 'mcpdeck se' offers servers and serve" test "$(sort b1 | tr '\n' ' ')" = "serve servers "
bashc mcpdeck "" >b2
check "bash: every subcommand of --help is offered" covers b2
bashc mcpdeck --con >b3
check "bash: a flag" test "$(tr '\n' ' ' <b3)" = "--config --concurrency "
bashc mcpdeck call "" >b4
check "bash: call offers configured and run-time servers" \
    sh -c 'grep -qx alpha b4 && grep -qx gamma b4 && grep -qx fs b4'
bashc mcpdeck jobs show "" >b5
check "bash: jobs show offers job ids, the newest included" grep -qx "$NEWEST" b5
bashc mcpdeck call fs read_ >b6
check "bash: call SERVER offers its tools" test "$(cat b6)" = "read_text_file"
bashc mcpdeck --theme "" >b7
check "bash: --theme offers the themes" test "$(tr '\n' ' ' <b7)" = "dark light high-contrast mono "
bashc mcpdeck run --type r >b8
check "bash: run --type offers task types" test "$(tr '\n' ' ' <b8)" = "refactor review "
(cd "$T" && bashc mcpdeck -c "$T/work/mcpdeck.yaml" servers enable "" >"$T/work/b9")
check "bash: -c on the command line is passed to __complete" grep -qx alpha b9
bashc mcpdeck memory search --ns s >b10
check "bash: --ns offers namespaces" test "$(cat b10)" = "scratchpad"

# === zsh ===

if command -v zsh >/dev/null 2>&1; then
    check "zsh: the script parses" zsh -n "$COMPL/_mcpdeck"
    zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -D
               print -r -- $_comps[mcpdeck]; autoload +X _mcpdeck && whence -w _mcpdeck' \
        zsh "$COMPL" >z0 2>&1
    check "zsh: compinit binds mcpdeck to _mcpdeck, which autoloads" \
        test "$(tr '\n' ' ' <z0)" = "_mcpdeck _mcpdeck: function "
    cat > zdrive.zsh <<'EOF'
# zdrive.zsh SCRIPT WORD...: what _mcpdeck offers for the last WORD, with the
# completion system's functions replaced by ones that print.
_arguments() { return 1 }
_describe() { local -a a; a=("${(@P)${@[-1]}}"); print -rl -- "${(@)a%%:*}" }
compadd() { while [[ $# -gt 0 && $1 == -* && $1 != -- ]]; do shift; done
            [[ $1 == -- ]] && shift; print -rl -- "$@" }
_files() { print -r -- '<files>' }
_directories() { print -r -- '<dirs>' }
_message() { print -r -- '<message>' }
_command_names() { print -r -- '<commands>' }
source $1
shift
_mcpdeck_bin=mcpdeck
_mcpdeck_g=()
if (( $# <= 2 )); then _mcpdeck_commands; exit; fi
shift                       # after the subcommand, words start with it
words=("$@")
CURRENT=$#
_mcpdeck_args
EOF
    zshc() { zsh -f zdrive.zsh "$COMPL/_mcpdeck" "$@"; }
    zshc mcpdeck "" >z1
    check "zsh: every subcommand of --help is offered" covers z1
    zshc mcpdeck call "" >z2
    check "zsh: call offers servers" sh -c 'grep -qx alpha z2 && grep -qx gamma z2'
    zshc mcpdeck jobs show "" >z3
    check "zsh: jobs show offers job ids" grep -qx "$NEWEST" z3
    zshc mcpdeck run --server git --tool "" >z4
    check "zsh: run --tool offers the --server's tools" grep -qx blame z4
else
    fail "zsh is not installed (scripts/deps.sh test installs it)"
fi

# === fish ===

if command -v fish >/dev/null 2>&1; then
    check "fish: the script parses" fish -n "$COMPL/mcpdeck.fish"
    fishc() { fish -N -c 'source $argv[1]; complete -C $argv[2]' "$COMPL/mcpdeck.fish" "$1"; }
    fishc "mcpdeck se" >f1
    check "fish: 'mcpdeck se' offers servers and serve" \
        test "$(cut -f1 f1 | sort | tr '\n' ' ')" = "serve servers "
    fishc "mcpdeck " | cut -f1 >f2
    check "fish: every subcommand of --help is offered" covers f2
    fishc "mcpdeck call " >f3
    contains "fish: call offers servers with descriptions" f3 "$(printf 'gamma\tadded at run time')"
    fishc "mcpdeck jobs show " >f4
    check "fish: jobs show offers job ids, newest first" test "$(head -n1 f4 | cut -f1)" = "$NEWEST"
    fishc "mcpdeck call git bl" >f5
    check "fish: call SERVER offers its tools" test "$(cut -f1 f5)" = "blame"
    fishc "mcpdeck servers add x -- sleep 5" >f6
    check "fish: servers add NAME -- CMD: then files" test -s f6
else
    fail "fish is not installed (scripts/deps.sh test installs it)"
fi

# === man page ===

MAN1="$TOP/mcpdeck.1"
groff -man -ww -z "$MAN1" >groff.out 2>&1
check "man: groff renders it without warnings" test ! -s groff.out
if command -v man >/dev/null 2>&1; then
    MANWIDTH=100 man --warnings -l "$MAN1" 2>man.err | col -b >man.txt
    check "man: man renders it without warnings" test ! -s man.err
    for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS CONFIGURATION FILES ENVIRONMENT \
             "EXIT STATUS" EXAMPLES "SEE ALSO"; do
        check "man: section $s" grep -qx "$s" man.txt
    done
    sed -n '/^COMMANDS$/,/^OPTIONS$/p' man.txt | sed -n 's/^       \([a-z][a-z]*\).*/\1/p' >man_cmds
    check "man: every subcommand of --help is described under COMMANDS" covers man_cmds
    # every long option --help lists is in OPTIONS
    "$MCPDECK" --help | sed -n 's/^ *\(-., \)\{0,1\}\(--[a-z-]*\).*/\2/p' | sort -u >help_opts
    sed -n '/^OPTIONS$/,/^CONFIGURATION$/p' man.txt | grep -o -- '--[a-z-]*' | sort -u >man_opts
    missing=$(comm -23 help_opts man_opts)
    check "man: every option of --help is under OPTIONS ($missing)" test -z "$missing"
    for code in 0 1 2 3 130; do
        check "man: exit status $code" grep -q "^       $code  *[A-Z]" man.txt
    done
else
    fail "man is not installed"
fi

e2e_done
