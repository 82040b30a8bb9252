// queue.mjs — benchmark 2: durable job lifecycles per second, mcpdeck's
// jobq (SQLite WAL, synchronous=NORMAL; bench_queue.c) beside BullMQ on
// Redis (bullmq.mjs), in the same run on the same machine.
//
//   node queue.mjs BENCH_QUEUE DIR [REDIS_PORT]
//
// Without REDIS_PORT the BullMQ side is reported as skipped. Pairs:
// jobq autocommit with BullMQ add(), jobq grouped (db_begin/db_commit
// around each group) with BullMQ addBulk(); then the whole engine
// (bench_engine, beside BENCH_QUEUE: submit -> claim -> a no-op built-in
// tool over the in-process transport -> outcome committed) with each task
// submitted on its own beside add(), and submitted as one group (as
// --batch does) beside addBulk(). Prints a table with ratios
// jobq/BullMQ and the targets (>= 20,000 lifecycles/s; >= 1x BullMQ),
// appends rows to $BENCH_SUMMARY; exit 1 if either side fails.
//
// Environment: QUEUE_JOBS (20000), QUEUE_WARMUP (1000), QUEUE_GROUP (100),
// BULLMQ_CONCURRENCY (16); passed on to bullmq.mjs, and the concurrency to
// bench_engine as its queue.concurrency.
import { execFileSync } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [benchQueue, dir, port] = process.argv.slice(2);
if (!benchQueue || !dir) {
    console.error("usage: node queue.mjs BENCH_QUEUE DIR [REDIS_PORT]");
    process.exit(2);
}
process.env.BULLMQ_CONCURRENCY ||= "16";
const JOBS = process.env.QUEUE_JOBS || "20000", WARMUP = process.env.QUEUE_WARMUP || "1000";
const GROUP = process.env.QUEUE_GROUP || "100";

function run(argv) {
    const out = execFileSync(argv[0], argv.slice(1), {
        encoding: "utf8", timeout: 120000, stdio: ["ignore", "pipe", "inherit"],
    });
    return Object.fromEntries(out.split("\n").filter(Boolean).map((l) => {
        const r = JSON.parse(l);
        return [r.mode, r];
    }));
}

const t0 = Date.now();
let jobq, eng, bull = null, bullVersion = "";
try {
    jobq = run([benchQueue, "-n", JOBS, "-w", WARMUP, "-g", GROUP, dir]);
    mkdirSync(join(dir, "engine"), { recursive: true });
    /* the engine runs as many jobs at once as the BullMQ worker does */
    eng = run([join(dirname(benchQueue), "bench_engine"), "-n", JOBS, "-w", WARMUP,
               "-c", process.env.BULLMQ_CONCURRENCY, join(dir, "engine")]);
    if (port) {
        bull = run([process.execPath, join(here, "bullmq.mjs"), port]);
        bullVersion = JSON.parse(readFileSync(join(here, "node_modules/bullmq/package.json"),
                                              "utf8")).version;
    }
} catch (e) {
    console.error(`queue benchmark failed: ${e.message}`);
    process.exit(1);
}

console.log(`\nQueue: durable job lifecycles (submit -> claim -> complete), ${JOBS} jobs ` +
    `after ${WARMUP} warm-up; backlog first, then drained`);
console.log(`jobq: SQLite WAL, synchronous=NORMAL; BullMQ ${bull ? bullVersion : "-"} ` +
    `on redis-server (defaults); worker and engine concurrency ${process.env.BULLMQ_CONCURRENCY}, ` +
    `node ${process.versions.node}`);
const pairs = [
    ["autocommit", "add", "each op its own transaction", "add() x" + GROUP + " in flight"],
    ["grouped", "addBulk", `groups of ${GROUP} in one transaction`, `addBulk(${GROUP})`],
];
console.log(`${"figure".padEnd(44)} ${"jobq".padStart(9)} ${"BullMQ".padStart(9)} ` +
    `${"ratio".padStart(7)}  target`);
const summary = process.env.BENCH_SUMMARY;
const row = (label, a, b, target, met) => {
    const ratio = b ? (a / b).toFixed(2) + "x" : "-";
    console.log((`${label.padEnd(44)} ${a.toFixed(0).padStart(9)} ` +
        `${(b ? b.toFixed(0) : "skipped").padStart(9)} ${ratio.padStart(7)}  ` +
        `${target} ${met}`).trimEnd());
    if (summary)
        appendFileSync(summary, ["queue " + label, a.toFixed(0), "BullMQ",
            b ? b.toFixed(0) : "skipped", ratio, target, met].join("\t") + "\n");
};
for (const [jm, bm, jdesc, bdesc] of pairs) {
    const j = jobq[jm], b = bull && bull[bm];
    console.log(`-- jobq ${jm} (${jdesc}) vs BullMQ ${bdesc}`);
    row(`${jm}: submit/s`, j.submit_per_s, b && b.submit_per_s, "", "");
    row(`${jm}: claim+complete/s`, j.drain_per_s, b && b.drain_per_s, "", "");
    const abs = j.lifecycles_per_s >= 20000;
    const rel = b ? j.lifecycles_per_s >= b.lifecycles_per_s : null;
    const word = (ok) => (ok ? "met" : "MISSED");
    row(`${jm}: lifecycles/s`, j.lifecycles_per_s, b && b.lifecycles_per_s,
        ">= 20000/s" + (b ? " & >= 1x" : ""), word(abs) + (rel === null ? "" : " & " + word(rel)));
}
const enginePairs = [
    ["single", "add", "engine, each task submitted on its own", "add() x" + GROUP + " in flight"],
    ["group", "addBulk", "engine, tasks submitted as one group", `addBulk(${GROUP})`],
];
for (const [em, bm, edesc, bdesc] of enginePairs) {
    const j = eng[em], b = bull && bull[bm];
    console.log(`-- ${edesc}, no-op built-in tool, vs BullMQ ${bdesc}`);
    const abs = j.lifecycles_per_s >= 20000;
    const rel = b ? j.lifecycles_per_s >= b.lifecycles_per_s : null;
    const word = (ok) => (ok ? "met" : "MISSED");
    row(`engine ${em}: lifecycles/s`, j.lifecycles_per_s, b && b.lifecycles_per_s,
        ">= 20000/s" + (b ? " & >= 1x" : ""), word(abs) + (rel === null ? "" : " & " + word(rel)));
}
console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
