// client.mjs — benchmark 1: mcpdeck's MCP client against the official
// TypeScript SDK client, side by side on the same machine in the same run.
//
//   node client.mjs BENCH_CLIENT COLDSTART
//
// Both talk to server-everything over stdio and call its `echo` tool (see
// bench_client.c and sdk_client.mjs). The two clients run in alternation,
// ROUNDS times each (fresh client + server per round); each figure is the
// median over the rounds. Cold start (fork/exec of the client to its first
// tools/list answer, bench/coldstart.c) is sampled COLD_RUNS times each,
// alternating too. Once a round bare_client (bare_client.c, beside
// BENCH_CLIENT) gives the least a stdio client spends per call, for scale.
// Then PLACE_ROUNDS sequential runs of each client (and the bare one) with
// the server pinned to the client's CPU and to the other one, since on a
// virtual machine that placement moves a sequential client's CPU by 2x.
// Prints a table with ratios mcpdeck/SDK and the targets,
// appends rows to $BENCH_SUMMARY when set; exits 1 if any run failed.
//
// Environment: CLIENT_ROUNDS (5), CLIENT_CALLS (2000), CLIENT_WARMUP (200),
// CLIENT_INFLIGHT (16), COLD_RUNS (5), PLACE_ROUNDS (3), BENCH_SUMMARY (a TSV file for bench/run.sh's final table).
import { execFileSync } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const top = join(here, "..");
const mods = join(top, "tests/servers/node_modules");
const server = join(mods, "@modelcontextprotocol/server-everything/dist/index.js");
const sdkVersion = JSON.parse(
    readFileSync(join(mods, "@modelcontextprotocol/sdk/package.json"), "utf8")).version;
const node = process.execPath;
const [benchClient, coldstart] = process.argv.slice(2);
if (!benchClient || !coldstart) {
    console.error("usage: node client.mjs BENCH_CLIENT COLDSTART");
    process.exit(2);
}
const env = (k, d) => Number(process.env[k] || d);
const ROUNDS = env("CLIENT_ROUNDS", 5), CALLS = env("CLIENT_CALLS", 2000);
const WARMUP = env("CLIENT_WARMUP", 200), INFLIGHT = env("CLIENT_INFLIGHT", 16);
const COLD_RUNS = env("COLD_RUNS", 5);

const load = ["-w", String(WARMUP), "-n", String(CALLS), "-c", String(INFLIGHT)];
const serverCmd = ["--", node, server, "stdio"];
const clients = {
    mcpdeck: [benchClient, ...load, ...serverCmd],
    sdk: [node, join(here, "sdk_client.mjs"), ...load, ...serverCmd],
};
const coldCmd = {
    mcpdeck: [benchClient, "--coldstart", ...serverCmd],
    sdk: [node, join(here, "sdk_client.mjs"), "--coldstart", ...serverCmd],
};

function run(argv) {
    return execFileSync(argv[0], argv.slice(1), {
        cwd: top, encoding: "utf8", timeout: 60000, stdio: ["ignore", "pipe", "inherit"],
    });
}

const median = (v) => {
    const s = [...v].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// samples[client][phase][field] = [values...]
const samples = { mcpdeck: {}, sdk: {} };
const cold = { mcpdeck: [], sdk: [] };
let failed = false;

function record(who, out) {
    for (const line of out.split("\n").filter(Boolean)) {
        const r = JSON.parse(line);
        const ph = (samples[who][r.phase] ||= {});
        for (const [k, v] of Object.entries(r))
            if (typeof v === "number") (ph[k] ||= []).push(v);
    }
}

/* For scale, once a round: bare_client (beside BENCH_CLIENT), the least a
 * stdio client can spend per sequential call here. */
const bareClient = join(dirname(benchClient), "bare_client");
const bare = [];
const t0 = Date.now();
try {
    for (let i = 0; i < ROUNDS; i++) {
        const order = i % 2 ? ["sdk", "mcpdeck"] : ["mcpdeck", "sdk"];
        for (const who of order) record(who, run(clients[who]));
        bare.push(JSON.parse(run([bareClient, "-w", String(WARMUP), "-n", String(CALLS),
                                  ...serverCmd])).cpu_us_per_call);
    }
    for (let i = 0; i < COLD_RUNS; i++) {
        const order = i % 2 ? ["sdk", "mcpdeck"] : ["mcpdeck", "sdk"];
        for (const who of order) {
            const r = JSON.parse(run([coldstart, "-r", "1", "--", ...coldCmd[who]]));
            cold[who].push(r.median_ms);
        }
    }
} catch (e) {
    console.error(`client benchmark failed: ${e.message}`);
    failed = true;
}
if (failed) process.exit(1);

/* Where the scheduler puts the server decides much of a sequential
 * client's CPU on a virtual machine: waking a process on an idle other
 * CPU is an inter-processor interrupt (an exit to the hypervisor) paid
 * inside the waker's write, and the sooner the next request follows an
 * answer, the likelier the server has not gone idle yet. So the same
 * sequential runs again with the placement fixed by taskset: the client
 * on CPU 0, the server on CPU 0 or on CPU 1 — each client, and the bare
 * one, under the same placement. Skipped without taskset or a second CPU. */
const PLACE_ROUNDS = env("PLACE_ROUNDS", 3);
const placed = {};            // placed[where][who] = [cpu us per sequential call...]
const haveTaskset = (() => {
    try { execFileSync("taskset", ["-c", "0", "true"]); return true; } catch { return false; }
})();
if (haveTaskset && availableParallelism() >= 2) {
    const seqOnly = (out) => JSON.parse(out.split("\n").find((l) => l.includes('"seq"')));
    try {
        for (const [where, cpu] of [["same CPU", "0"], ["other CPU", "1"]]) {
            placed[where] = { mcpdeck: [], sdk: [], bare: [] };
            const pinnedServer = ["--", "taskset", "-c", cpu, node, server, "stdio"];
            const argv = {
                mcpdeck: [benchClient, ...load, ...pinnedServer],
                sdk: [node, join(here, "sdk_client.mjs"), ...load, ...pinnedServer],
                bare: [bareClient, "-w", String(WARMUP), "-n", String(CALLS), ...pinnedServer],
            };
            for (let i = 0; i < PLACE_ROUNDS; i++)
                for (const who of i % 2 ? ["sdk", "bare", "mcpdeck"] : ["mcpdeck", "bare", "sdk"]) {
                    const out = run(["taskset", "-c", "0", ...argv[who]]);
                    placed[where][who].push(who === "bare" ? JSON.parse(out).cpu_us_per_call
                                                           : seqOnly(out).cpu_us_per_call);
                }
        }
    } catch (e) {
        console.error(`client benchmark (placement runs) failed: ${e.message}`);
        process.exit(1);
    }
}

const fig = (who, phase, k) => median(samples[who][phase][k]);
const rows = [];
// [label, mcpdeck, sdk, digits, target (ratio bound), "ge"|"le"]
for (const [phase, label] of [["seq", "sequential"], ["conc", `${INFLIGHT} in flight`]]) {
    const seqTarget = phase === "seq";
    rows.push([`${label}: calls/s`, fig("mcpdeck", phase, "calls_per_s"),
        fig("sdk", phase, "calls_per_s"), 0, seqTarget ? 1.25 : null, "ge"]);
    rows.push([`${label}: p50 latency ms`, fig("mcpdeck", phase, "p50_ms"),
        fig("sdk", phase, "p50_ms"), 3, null]);
    rows.push([`${label}: p95 latency ms`, fig("mcpdeck", phase, "p95_ms"),
        fig("sdk", phase, "p95_ms"), 3, null]);
    rows.push([`${label}: client CPU us/call`, fig("mcpdeck", phase, "cpu_us_per_call"),
        fig("sdk", phase, "cpu_us_per_call"), 1, 0.1, "le"]);
    rows.push([`${label}:   of which user us/call`,
        fig("mcpdeck", phase, "cpu_user_s") * 1e6 / CALLS,
        fig("sdk", phase, "cpu_user_s") * 1e6 / CALLS, 1, null]);
    rows.push([`${label}:   of which sys us/call`,
        fig("mcpdeck", phase, "cpu_sys_s") * 1e6 / CALLS,
        fig("sdk", phase, "cpu_sys_s") * 1e6 / CALLS, 1, null]);
}
rows.push([`cold start to tools/list ms`, median(cold.mcpdeck), median(cold.sdk), 1, null]);

const fmt = (v, d) => v.toFixed(d);
const targetText = (t, dir) => (t == null ? "" : `${dir === "ge" ? ">=" : "<="} ${t}x`);
const verdict = (ratio, t, dir) =>
    t == null ? "" : (dir === "ge" ? ratio >= t : ratio <= t) ? "met" : "MISSED";

console.log(`\nMCP client: mcpdeck vs @modelcontextprotocol/sdk ${sdkVersion} Client + ` +
    `StdioClientTransport (node ${process.versions.node})`);
console.log(`server-everything echo over stdio; ${WARMUP} warm-up calls, then ${CALLS} ` +
    `sequential and ${CALLS} with ${INFLIGHT} in flight; median of ${ROUNDS} rounds; ` +
    `cold start median of ${COLD_RUNS}`);
console.log(`${"figure".padEnd(38)} ${"mcpdeck".padStart(10)} ${"SDK".padStart(10)} ` +
    `${"ratio".padStart(7)}  target`);
const summary = process.env.BENCH_SUMMARY;
for (const [label, a, b, d, t, dir] of rows) {
    const ratio = a / b;
    const v = verdict(ratio, t, dir);
    console.log((`${label.padEnd(38)} ${fmt(a, d).padStart(10)} ${fmt(b, d).padStart(10)} ` +
        `${(ratio.toFixed(2) + "x").padStart(7)}  ${targetText(t, dir)} ${v}`).trimEnd());
    if (summary && !label.includes("of which"))
        appendFileSync(summary, ["client " + label, fmt(a, d), "SDK", fmt(b, d),
            ratio.toFixed(2) + "x", targetText(t, dir), v].join("\t") + "\n");
}
console.log(`for scale: a bare C client (bare_client.c: a printf-made request, one write, ` +
    `poll, read to the newline; no JSON, no loop) spends ${median(bare).toFixed(1)} us of ` +
    `CPU per sequential call (${(median(bare) / fig("sdk", "seq", "cpu_us_per_call")).toFixed(2)}x ` +
    `the SDK); rounds: ${bare.map((v) => v.toFixed(1)).join(" ")}`);
if (Object.keys(placed).length) {
    console.log(`sequential client CPU us/call with the placement fixed (client on CPU 0; ` +
        `median of ${PLACE_ROUNDS}):`);
    console.log(`${"  server on".padEnd(22)} ${"mcpdeck".padStart(8)} ${"SDK".padStart(8)} ` +
        `${"ratio".padStart(6)} ${"bare C".padStart(8)} ${"ratio".padStart(6)}`);
    for (const [where, f] of Object.entries(placed)) {
        const [m, k, b] = [median(f.mcpdeck), median(f.sdk), median(f.bare)];
        console.log(`${("  " + where).padEnd(22)} ${m.toFixed(1).padStart(8)} ` +
            `${k.toFixed(1).padStart(8)} ${((m / k).toFixed(2) + "x").padStart(6)} ` +
            `${b.toFixed(1).padStart(8)} ${((b / k).toFixed(2) + "x").padStart(6)}`);
        if (summary)
            appendFileSync(summary, [`client sequential CPU us/call, server on ${where}`,
                m.toFixed(1), "SDK", k.toFixed(1), (m / k).toFixed(2) + "x", "", ""].join("\t") +
                "\n");
    }
}
// The spread, to judge the noise on a shared machine.
for (const [phase, k, d] of [["seq", "calls_per_s", 0], ["seq", "cpu_us_per_call", 1]])
    console.log(`rounds, ${phase} ${k}: ` + ["mcpdeck", "sdk"].map((who) =>
        `${who} ${samples[who][phase][k].map((v) => v.toFixed(d)).join(" ")}`).join("; "));
console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
