#!/bin/sh
# End to end: the new-task form under tmux, with the built-in fs server.
# Tab completes fs.read_t to fs.read_text_file; arguments that do not fit
# the tool's inputSchema show an error under the Args field as they are
# typed, Ctrl-S is refused while it shows, and it goes away when fixed; a
# bad priority is flagged beside its field; the priority and timeout typed
# reach the job (mcpdeck jobs show --format json); Up on a fresh form
# recalls the last submission. A model task's Prompt is a multi-line box:
# lines typed with Enter between them and a bracketed paste (tmux
# paste-buffer -p; its control characters dropped, a tab as spaces) show
# on their own rows, nothing submits until Ctrl-S, and the stored prompt
# has exactly those lines (the task itself fails: its provider's key is
# unset); Up in a fresh form brings the lines back. A paste with no text
# field focused is ignored (the q in it does not quit).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tui.sh"

mkdir -p "$T/work"
echo "hello notes" >"$T/work/notes.txt"
# a model whose key is never set: model tasks are accepted, then fail
cat >"$T/work/mcpdeck.yaml" <<'YAML'
providers:
  nokey: {type: openai, base_url: "http://127.0.0.1:9/v1", api_key_env: MCPDECK_TEST_UNSET_KEY}
models:
  nowhere: {provider: nokey, model: x/nowhere, price_in: 1, price_out: 1}
llm: {retries: 0}
YAML
export LC_ALL=C.UTF-8

gone() { ended main; }
fs_ready() { grep -qE ' fs +(builtin +)?ready'; }
# paste TEXT: a bracketed paste, as a terminal sends it (LF as CR)
paste() { tm set-buffer -- "$1" && tm paste-buffer -p -t main; }
# rows LINE...: each line is in the box ("│ LINE" then blanks), one under
# the other
rows() {
    awk -v want="$(printf '%s\n' "$@")" '
        BEGIN { n = split(want, w, "\n") - 1 }
        { for (i = 1; i <= n; i++) if (!(i in at) && index($0, "\342\224\202 " w[i] "  ")) at[i] = NR }
        END { for (i = 1; i <= n; i++) if (!(i in at) || (i > 1 && at[i] != at[i - 1] + 1)) exit 1 }'
}

start main
expect "the fs server is ready" 10 fs_ready

# --- Tab completion ------------------------------------------------------
keys n
wait_for main 5 has "Tool (server.tool)" || true
text "fs.read_t"
keys Tab
expect "Tab completes fs.read_t to fs.read_text_file" 5 has "fs.read_text_file"

# --- live validation of the arguments ------------------------------------
keys Tab
text '{"path": 1}'
expect "arguments that break the schema show the error under the field" 5 \
    has "args.path: expected string"
keys C-s
if wait_for main 5 has "fix the field marked in red first" && has "Tool (server.tool)" <"$T/screen"
then ok "Ctrl-S is refused while the arguments are wrong"
else fail "Ctrl-S is refused while the arguments are wrong" "$(why main)"; fi
keys C-u
text '{"path": "notes.txt"}'
expect "the error goes away when the arguments are fixed" 5 hasnt "args.path"

# --- priority and timeout ------------------------------------------------
keys Tab
text "high"
expect "a priority that is not a number is flagged" 5 has "expected an integer"
keys C-u
text "7"
keys Tab
text "45s"
keys C-s
expect "the task submitted from the form succeeds" 10 grep -qE 'succeeded +fs\.read_text_file'

# --- recall --------------------------------------------------------------
keys n
wait_for main 5 has "Tool (server.tool)" || true
keys Up
# all three on one screen (a capture may catch a redraw half done)
recalled() {
    _scr=$(cat)
    printf '%s\n' "$_scr" | grep -qF '{"path": "notes.txt"}' &&
        printf '%s\n' "$_scr" | grep -qE 'Priority +7 ' &&
        printf '%s\n' "$_scr" | grep -qE 'Timeout +45s '
}
expect "Up on a fresh form recalls the last submission" 5 recalled
keys Escape
wait_for main 5 hasnt "Tool (server.tool)" || true

# --- templates (data/templates.yaml): Ctrl-O fills the form --------------
keys n
wait_for main 5 has "Tool (server.tool)" || true
keys C-o
if wait_for main 5 has "template 1/" && grep -qF "fs.read_text_file" "$T/screen" &&
    grep -qF '{"path":"README.md"}' "$T/screen"; then
    ok "Ctrl-O fills the form with the first template"
else fail "Ctrl-O fills the form with the first template" "$(why main)"; fi
keys C-o
if wait_for main 5 has "template 2/" && grep -qF "git.status" "$T/screen"
then ok "Ctrl-O again: the next one"
else fail "Ctrl-O again: the next one" "$(why main)"; fi
keys C-s
expect "a template submits like a typed task" 10 grep -qE '(succeeded|failed) +git\.status'

# --- a paste with no text field focused is dropped -----------------------
wait_for main 5 hasnt "Tool (server.tool)" || true
paste "q"
sleep 0.3
if wait_for main 5 has "paste ignored: no text field has the focus" && ! ended main
then ok "a paste outside a text field is ignored (its q does not quit)"
else fail "a paste outside a text field is ignored (its q does not quit)" "$(why main)"; fi

# --- a multi-line prompt: typed lines, a paste, Ctrl-S -------------------
keys n
wait_for main 5 has "Tool (server.tool)" || true
keys BTab g Tab
text "first typed line"
keys Enter
text "second typed line"
keys Enter
paste "$(printf 'pasted one\n\tpasted two\023')"
if wait_for main 5 rows "first typed line" "second typed line" "pasted one" "    pasted two"
then ok "typed lines and a pasted text show on their own rows of the Prompt box"
else fail "typed lines and a pasted text show on their own rows of the Prompt box" "$(why main)"; fi
if has "generate (model task)" <"$T/screen" && hasnt "queued job" <"$T/screen"; then
    ok "Enter and the paste (with a Ctrl-S byte in it) do not submit"
else fail "Enter and the paste (with a Ctrl-S byte in it) do not submit" "$(why main)"; fi
keys C-s
expect "Ctrl-S submits the model task" 10 grep -qE '^│ +[0-9]+ .* generate \(model\)'
model_job=$(sed -n 's/^│ *\([0-9][0-9]*\) .* generate (model).*/\1/p' "$T/screen" | head -1)
keys n
wait_for main 5 has "Tool (server.tool)" || true
keys Up
if wait_for main 5 rows "first typed line" "second typed line" "pasted one" "    pasted two"
then ok "Up in a fresh form recalls the prompt with its lines"
else fail "Up in a fresh form recalls the prompt with its lines" "$(why main)"; fi
keys Escape
wait_for main 5 hasnt "Tool (server.tool)" || true
keys q
wait_for main 5 gone || true

"$MCPDECK" jobs show "${model_job:-0}" --format json >"$T/model.json" 2>"$T/model.err"
node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
         process.stdout.write(j.tool + "|" + j.args.prompt)' <"$T/model.json" >"$T/prompt" 2>&1
printf 'generate|first typed line\nsecond typed line\npasted one\n    pasted two' >"$T/prompt.want"
if cmp -s "$T/prompt" "$T/prompt.want"; then
    ok "the stored prompt has exactly the typed and pasted lines"
else fail "the stored prompt has exactly the typed and pasted lines" \
    "got: $(od -c "$T/prompt" | head -8)" "$(cat "$T/model.err")"; fi

"$MCPDECK" jobs show 1 --format json >"$T/job.json" 2>"$T/job.err"
if grep -qE '"priority":[[:space:]]*7,' "$T/job.json" && grep -qE '"timeout_ms":[[:space:]]*45000,' "$T/job.json"
then ok "the priority and timeout typed are the job's"
else fail "the priority and timeout typed are the job's" "$(cat "$T/job.json" "$T/job.err")"; fi

e2e_done
