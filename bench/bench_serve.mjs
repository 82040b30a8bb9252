// bench_serve.mjs — what a hop through `mcpdeck serve` (stdio) costs.
//
//   node bench_serve.mjs MCPDECK [PINGPONG]
//
// One client throughout, the official TypeScript SDK's Client +
// StdioClientTransport, so the difference between paths is the hop:
//   direct     SDK → server-everything, `echo`
//   serve      SDK → mcpdeck serve → server-everything, `everything__echo`
//              (serve.record_calls: true, the default: each call is a queue job)
//   serve-nr   the same with record_calls: false (straight to the server)
//   builtin    SDK → mcpdeck serve → the built-in fs server, `fs__get_file_info`
//              (record_calls false; in-process, the cheapest built-in tool)
//   two        SDK → mcpdeck serve → mcpdeck serve → server-everything (both direct)
// Each round runs the paths in turn (fresh processes per path): W warm-up
// calls, N sequential, N with K in flight. Figures are medians over rounds.
// Added latency per hop = p50(serve → serve → everything) - p50(serve →
// everything), sequential calls: what one more mcpdeck serve in a chain adds,
// measured paired — both chains connected at once, blocks of 50 calls taken
// in turn, SERVE_PAIR_CALLS (10000) each — so host load drifts hit both.
// With PINGPONG (bench/pingpong.c, built by run.sh) it also times, once a
// round, a bare pipe round trip between two otherwise idle processes, for
// scale: what the two transits a hop adds cost on this host by themselves.
// Appends rows to $BENCH_SUMMARY when set; exits 1 if a call fails.
//
// Environment: SERVE_ROUNDS (3), SERVE_CALLS (2000), SERVE_WARMUP (200),
// SERVE_INFLIGHT (16), SERVE_PAIR_CALLS (10000).
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const mods = join(here, "../tests/servers/node_modules/@modelcontextprotocol");
const { Client } = await import(join(mods, "sdk/dist/esm/client/index.js"));
const { StdioClientTransport } = await import(join(mods, "sdk/dist/esm/client/stdio.js"));
const sdkVersion = JSON.parse(readFileSync(join(mods, "sdk/package.json"), "utf8")).version;
const everything = join(mods, "server-everything/dist/index.js");
const mcpdeck = process.argv[2], pingpong = process.argv[3];
if (!mcpdeck) {
    console.error("usage: node bench_serve.mjs MCPDECK [PINGPONG]");
    process.exit(2);
}
const env = (k, d) => Number(process.env[k] || d);
const ROUNDS = env("SERVE_ROUNDS", 3), CALLS = env("SERVE_CALLS", 2000);
const WARMUP = env("SERVE_WARMUP", 200), INFLIGHT = env("SERVE_INFLIGHT", 16);
const tmp = mkdtempSync(join(tmpdir(), "mcpdeck-bench-serve."));

function config(name, record) {
    const path = join(tmp, `${name}.yaml`);
    writeFileSync(path, `data_dir: ${join(tmp, name + "-data")}\n` +
        `log: {level: warn}\n` +
        `serve: {record_calls: ${record}}\n` +
        `servers:\n  everything: {command: "${process.execPath}", args: ["${everything}"]}\n`);
    return path;
}
const paths = {
    direct: { cmd: [process.execPath, everything, "stdio"], tool: "echo" },
    serve: { cmd: [mcpdeck, "-c", config("rec", true), "serve"], tool: "everything__echo" },
    "serve-nr": { cmd: [mcpdeck, "-c", config("norec", false), "serve"],
                  tool: "everything__echo" },
    builtin: { cmd: [mcpdeck, "-c", config("builtin", false), "serve"],
               tool: "fs__get_file_info" },
    two: { cmd: [mcpdeck, "-c", outer(), "serve"], tool: "inner__everything__echo" },
};
/* two hops: serve (direct) in front of serve (direct) in front of everything */
function outer() {
    const path = join(tmp, "outer.yaml");
    writeFileSync(path, `data_dir: ${join(tmp, "outer-data")}\nlog: {level: warn}\n` +
        `serve: {record_calls: false}\n` +
        `servers:\n  inner: {command: "${mcpdeck}", args: ["-c", "${join(tmp, "norec.yaml")}", ` +
        `serve]}\n`);
    return path;
}

function percentile(sorted, p) {
    return sorted[Math.round(p * (sorted.length - 1))];
}

async function phase(client, tool, n, k) {
    const lat = new Array(n);
    let next = 0;
    const one = async () => {
        while (next < n) {
            const i = next++;
            const args = tool === "fs__get_file_info" ? { path: "." } : { message: `b-${i}` };
            const t = process.hrtime.bigint();
            const r = await client.callTool({ name: tool, arguments: args });
            lat[i] = Number(process.hrtime.bigint() - t) / 1e3;
            const text = r.content && r.content[0] && r.content[0].text;
            if (r.isError || (tool !== "fs__get_file_info" && text !== `Echo: b-${i}`))
                throw new Error(`${tool} call ${i}: ${JSON.stringify(r)}`);
        }
    };
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: k }, one));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    lat.sort((a, b) => a - b);
    return { calls_per_s: n / secs, p50_us: percentile(lat, 0.5), p99_us: percentile(lat, 0.99) };
}

/* A connected client on path p, after the warm-up calls. */
async function open(p) {
    const transport = new StdioClientTransport({ command: p.cmd[0], args: p.cmd.slice(1),
                                                 stderr: "ignore" });
    const client = new Client({ name: "bench-serve", version: "1" });
    await client.connect(transport);
    await client.listTools();
    await phase(client, p.tool, WARMUP, 1);
    return client;
}

async function run(p) {
    const client = await open(p);
    const seq = await phase(client, p.tool, CALLS, 1);
    const conc = await phase(client, p.tool, CALLS, INFLIGHT);
    await client.close();
    return { seq, conc };
}

/* The hop, paired: one serve and two serves in a chain connected at once,
 * sequential calls in blocks of PAIR_BLOCK taken in turn (which goes first
 * alternates), so both see the same moments of the host's load; p50 of
 * each over all blocks. Separate runs of a few seconds each can differ by
 * more than the hop itself on shared vCPUs. */
const PAIR_CALLS = env("SERVE_PAIR_CALLS", 10000), PAIR_BLOCK = 50;
async function paired() {
    const one = await open(paths["serve-nr"]), two = await open(paths.two);
    const lat = { one: [], two: [] };
    const block = async (client, tool, into) => {
        for (let i = 0; i < PAIR_BLOCK; i++) {
            const t = process.hrtime.bigint();
            const r = await client.callTool({ name: tool, arguments: { message: `p-${i}` } });
            into.push(Number(process.hrtime.bigint() - t) / 1e3);
            if (r.isError || r.content[0].text !== `Echo: p-${i}`)
                throw new Error(`paired ${tool}: ${JSON.stringify(r)}`);
        }
    };
    for (let b = 0; b * PAIR_BLOCK < PAIR_CALLS; b++) {
        const first = b % 2 ? "two" : "one";
        for (const w of [first, first === "one" ? "two" : "one"])
            await block(w === "one" ? one : two, paths[w === "one" ? "serve-nr" : "two"].tool,
                        lat[w]);
    }
    await one.close();
    await two.close();
    for (const k of ["one", "two"])
        lat[k].sort((a, b) => a - b);
    return { one: percentile(lat.one, 0.5), two: percentile(lat.two, 0.5) };
}

const samples = {};
const t0 = Date.now();
let failed = false;
const floors = [];
for (let r = 0; r < ROUNDS; r++) {
    if (pingpong)
        floors.push(JSON.parse(execFileSync(pingpong, [], { encoding: "utf8" })).p50_us);
    for (const [name, p] of Object.entries(paths)) {
        try {
            const s = await run(p);
            (samples[name] ||= []).push(s);
        } catch (e) {
            console.error(`bench serve: ${name}: ${e.stack || e}`);
            failed = true;
        }
    }
}
let pair = null;
if (!failed) {
    try {
        pair = await paired();
    } catch (e) {
        console.error(`bench serve: paired: ${e.stack || e}`);
        failed = true;
    }
}
rmSync(tmp, { recursive: true, force: true });
if (failed) process.exit(1);
const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
};
const fig = (name, ph, k) => median(samples[name].map((s) => s[ph][k]));

console.log(`\nmcpdeck serve (stdio): the hop it adds, measured with @modelcontextprotocol/sdk ` +
    `${sdkVersion} Client (node ${process.versions.node})`);
console.log(`${WARMUP} warm-up calls, then ${CALLS} sequential and ${CALLS} with ${INFLIGHT} ` +
    `in flight; median of ${ROUNDS} rounds`);
console.log(`${"path".padEnd(44)} ${"seq/s".padStart(8)} ${"p50 µs".padStart(8)} ` +
    `${"p99 µs".padStart(8)} ${"conc/s".padStart(8)}`);
const labels = {
    direct: "SDK → server-everything echo",
    serve: "SDK → serve → everything__echo (as jobs)",
    "serve-nr": "SDK → serve → everything__echo (direct)",
    builtin: "SDK → serve → fs__get_file_info (built-in)",
    two: "SDK → serve → serve → everything__echo",
};
for (const name of Object.keys(paths))
    console.log(`${labels[name].padEnd(44)} ${fig(name, "seq", "calls_per_s").toFixed(0).padStart(8)} ` +
        `${fig(name, "seq", "p50_us").toFixed(0).padStart(8)} ` +
        `${fig(name, "seq", "p99_us").toFixed(0).padStart(8)} ` +
        `${fig(name, "conc", "calls_per_s").toFixed(0).padStart(8)}`);
/* One hop is what a second serve in the chain adds; the SDK-direct path is
 * a different pipeline (node to node), shown for reference only. */
const base = fig("serve-nr", "seq", "p50_us");
const summary = process.env.BENCH_SUMMARY;
const hop = pair.two - pair.one;
const v = hop <= 50 ? "met" : "MISSED";
console.log(`paired, ${PAIR_CALLS} sequential calls each in blocks of ${PAIR_BLOCK} taken in ` +
    `turn: p50 one serve ${pair.one.toFixed(0)} µs, two serves ${pair.two.toFixed(0)} µs`);
console.log(`added p50 per serve hop (direct calls): ${hop.toFixed(0)} µs  (target <= 50 µs: ${v})`);
console.log(`(from the separate runs above: ` +
    `${(fig("two", "seq", "p50_us") - base).toFixed(0)} µs)`);
if (pingpong)
    /* for scale: a hop is two more transits between processes */
    console.log(`for scale: one pipe round trip between two otherwise idle processes ` +
        `(pingpong.c): ${median(floors).toFixed(0)} µs p50`);
const jobs = fig("serve", "seq", "p50_us") - base;
console.log(`a call recorded as a job costs ${jobs.toFixed(0)} µs more at p50 than a direct one`);
console.log(`p50 through serve minus p50 SDK → everything directly: ` +
    `${(base - fig("direct", "seq", "p50_us")).toFixed(0)} µs (different pipelines; see README)`);
if (summary) {
    appendFileSync(summary, ["serve hop p50 added (µs)", hop.toFixed(0), "1 hop",
        pair.one.toFixed(0), "", "<= 50", v].join("\t") + "\n");
    appendFileSync(summary, ["serve job recording p50 cost (µs)", jobs.toFixed(0), "", "", "",
        "", ""].join("\t") + "\n");
}
if (summary)
    appendFileSync(summary, ["serve everything__echo seq calls/s (direct)",
        fig("serve-nr", "seq", "calls_per_s").toFixed(0), "SDK",
        fig("direct", "seq", "calls_per_s").toFixed(0),
        (fig("serve-nr", "seq", "calls_per_s") / fig("direct", "seq", "calls_per_s")).toFixed(2) +
            "x", "", ""].join("\t") + "\n");
console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
