#!/bin/sh
# End to end: `mcpdeck memory` on a real store across separate runs (add
# with dedup and metadata merge, search in each mode on a small corpus,
# get, delete, list, export, import into a fresh store, stats, bad input
# and exit codes), then the built-in memory server through `mcpdeck call`
# seeing what the CLI wrote and the other way round.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/work" && cd "$T/work" || exit 1
M() { "$MCPDECK" memory "$@"; }

# A small real corpus: sentences about the project.
M add "The event loop owns every file descriptor and the SQLite connection" --ns architecture \
    --meta '{"topic":"loop","score":5}' >o1 2>&1
contains "add prints the new id" o1 "added 1"
M add "Circuit breakers open after five consecutive failures and close after a cooldown" \
    --ns architecture --meta '{"topic":"breaker","score":8}' >/dev/null
M add "Unit tests use cmocka, one program per module, with real SQLite in a temp dir" \
    --ns testing --meta '{"topic":"tests","score":3}' >/dev/null
M add "Write a contract comment above every public function" --ns documentation \
    --meta '{"topic":"style"}' >/dev/null
M add "The vector index scans int8 rows and rescores the best with float32" --ns coding \
    --meta '{"topic":"vectors","score":9}' >/dev/null
M add "The event loop owns every file descriptor and the SQLite connection" --ns architecture \
    --meta '{"reviewed":true}' >o2 2>&1
contains "re-adding the same text returns the existing id" o2 "exists 1"

M get 1 --json >g1
check "metadata merged (old keys kept, new added)" \
    grep -q '"reviewed":	true' g1
check "the old keys stay" grep -q '"topic":	"loop"' g1

# searches, each in a new process (the store persists, indexes reload)
M search "who owns the sqlite connection" --json >s1
check "hybrid: the loop entry first" \
    node -e 'const r = JSON.parse(require("fs").readFileSync("s1")); process.exit(r[0].id === 1 && r[0].rank_keyword === 1 ? 0 : 1)'
M search "breaker cooldown" --mode keyword --json >s2
check "keyword: the breaker entry first, only entries with the words" \
    node -e 'const r = JSON.parse(require("fs").readFileSync("s2")); process.exit(r.length === 1 && r[0].id === 2 ? 0 : 1)'
M search "int8 vector rescoring float32" --mode vector -k 2 --json >s3
check "vector: the vector index entry first, k respected" \
    node -e 'const r = JSON.parse(require("fs").readFileSync("s3")); process.exit(r.length === 2 && r[0].id === 5 && r[0].vector > r[1].vector ? 0 : 1)'
M search "the" --mode hybrid --filter '{"score":{"gte":4,"lt":9}}' --json >s4
check "filter with a range: scores 5 and 8 only" \
    node -e 'const r = JSON.parse(require("fs").readFileSync("s4")); const ids = r.map(x => x.id).sort(); process.exit(JSON.stringify(ids) === "[1,2]" ? 0 : 1)'
M search "contract comment" --ns testing --ns coding --json >s5
check "namespaces limit the search" \
    node -e 'const r = JSON.parse(require("fs").readFileSync("s5")); process.exit(r.every(x => x.namespace === "testing" || x.namespace === "coding") ? 0 : 1)'
M search 'NEAR( "unbalanced AND OR *' --mode keyword >s6 2>&1
expect_exit "FTS syntax in a query is never an error" 0 $?

M list --limit 2 >l1
check "list is newest first and limited" sh -c '[ "$(wc -l <l1)" -eq 2 ] && head -1 l1 | grep -q "^ *1 "'
M stats --json >st
check "stats: 5 entries, 5 vectors, none stale" \
    node -e 'const s = JSON.parse(require("fs").readFileSync("st")); process.exit(s.total === 5 && s.vectors["hashing-384-v1"] === 5 && s.stale === 0 ? 0 : 1)'

# export, import into another store
M export >all.jsonl 2>/dev/null
check "export writes one line per entry" sh -c '[ "$(wc -l <all.jsonl)" -eq 5 ]'
"$MCPDECK" --data-dir "$T/other" memory import all.jsonl >i1
contains "import into a fresh store adds everything" i1 "imported 5 new, 0 merged"
"$MCPDECK" --data-dir "$T/other" memory import all.jsonl >i2
contains "a second import only merges" i2 "imported 0 new, 5 merged"
"$MCPDECK" --data-dir "$T/other" memory search "who owns the sqlite connection" -k 1 >i3
contains "the imported store answers searches" i3 "event loop owns"
printf '{"namespace":"coding","text":"fine"}\n{"namespace":"coding"}\n' >bad.jsonl
"$MCPDECK" --data-dir "$T/other" memory import bad.jsonl >i4 2>&1
expect_exit "a bad import line exits 2" 2 $?
contains "the error names the line" i4 "line 2:"
mkdir -p adir
"$MCPDECK" --data-dir "$T/other" memory import adir >i5 2>&1
expect_exit "importing a directory exits 2" 2 $?
contains "... saying why, not 'imported 0 new'" i5 "adir: cannot read: Is a directory (nothing was imported)"
# a line has a limit (64 MiB): one endless line is not read into memory
# for ever; the error names the file and the line, and nothing is imported
# (the cap on virtual memory keeps a mcpdeck without the limit from taking
# the machine's; sanitizers reserve too much address space for one)
case "$MCPDECK" in *asan*) vlim=unlimited ;; *) vlim=2000000 ;; esac
(ulimit -v $vlim; exec timeout 60 "$MCPDECK" --data-dir "$T/other" memory import /dev/zero) \
    >i6 2>&1
expect_exit "importing /dev/zero exits 2" 2 $?
contains "... naming the file, the line and the limit" i6 \
    "/dev/zero: line 1: longer than 64 MiB (the limit for one entry's line) (nothing was imported)"
"$MCPDECK" --data-dir "$T/other" memory stats --json >st6
{ printf '{"namespace":"coding","text":"before the long line"}\n'
  head -c 67108865 /dev/zero | tr '\0' ' '; printf '\n'; } |
    "$MCPDECK" --data-dir "$T/other" memory import - >i7 2>&1
expect_exit "a line just over the limit exits 2" 2 $?
contains "... at line 2" i7 "-: line 2: longer than 64 MiB"
"$MCPDECK" --data-dir "$T/other" memory stats --json >st7
check "... and the line before it is not imported" cmp -s st6 st7

# delete, exit codes
M delete 4 >d1
contains "delete" d1 "deleted 4"
M get 4 >/dev/null 2>&1
expect_exit "a deleted entry is gone (exit 1)" 1 $?
M delete 4 >/dev/null 2>&1
expect_exit "deleting it again exits 1" 1 $?
M add "x" --ns nowhere >/dev/null 2>&1
expect_exit "an unknown namespace exits 2" 2 $?
M search "x" --mode psychic >/dev/null 2>&1
expect_exit "an unknown mode exits 2" 2 $?
M frobnicate >/dev/null 2>&1
expect_exit "an unknown subcommand exits 2" 2 $?
M add "gone soon" --ns shared --ttl 1ms >/dev/null
sleep 0.05
M search "gone soon" --mode keyword >t1
contains "an expired entry is not found" t1 "no results"
M sync >y1
contains "sync without Qdrant says so" y1 "Qdrant is not configured"

# the built-in server: sees what the CLI wrote, writes what the CLI sees
"$MCPDECK" --json call memory memory_search '{"query":"circuit breakers","k":2}' >c1
check "memory_search through the server: structured results" \
    node -e 'const r = JSON.parse(require("fs").readFileSync("c1")); process.exit(!r.isError && r.structuredContent.results[0].id === 2 ? 0 : 1)'
"$MCPDECK" --json call memory memory_store \
    '{"text":"Built-in servers answer in process","namespace":"architecture","metadata":{"via":"mcp"}}' >c2
check "memory_store through the server returns the id" \
    node -e 'const r = JSON.parse(require("fs").readFileSync("c2")); process.exit(r.structuredContent.created === true && r.structuredContent.id > 5 ? 0 : 1)'
M search "built-in servers in process" -k 1 >c3
contains "the CLI finds what the server stored" c3 "Built-in servers answer in process"
"$MCPDECK" call memory memory_search '{"query":"x","mode":"psychic"}' >c4 2>&1
expect_exit "a bad mode is a tool error (exit 1)" 1 $?
"$MCPDECK" call memory memory_delete '{"id":2}' >c5
contains "memory_delete" c5 "deleted entry 2"
"$MCPDECK" --json servers tools memory >c6
check "the server lists three tools" \
    node -e 'const t = JSON.parse(require("fs").readFileSync("c6")); const a = Array.isArray(t) ? t : t.tools; process.exit(a.length === 3 ? 0 : 1)'


# min_score through the built-in server
M add "the quick brown fox jumps over the lazy dog" --ns shared >/dev/null
"$MCPDECK" call memory memory_search '{"query": "quick brown fox", "mode": "vector", "min_score": 0.999}' >ms1.out 2>&1
"$MCPDECK" call memory memory_search '{"query": "quick brown fox", "mode": "vector", "min_score": 0.2}' >ms2.out 2>&1
check "min_score drops what scores below it" sh -c "grep -q '^0 results' ms1.out && grep -q 'quick brown fox' ms2.out"
M search "quick brown fox" --mode vector --exact >ex.out 2>&1
check "--exact searches by a full float32 scan and finds the same entry" grep -q "quick brown fox" ex.out
e2e_done
