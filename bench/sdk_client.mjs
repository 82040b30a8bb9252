// sdk_client.mjs — the official TypeScript SDK client under the same load
// as bench_client.c, for bench/client.mjs to compare.
//
//   node sdk_client.mjs [-w WARMUP] [-n CALLS] [-c INFLIGHT] [--coldstart] -- CMD [ARG...]
//
// Client + StdioClientTransport spawn the server; after connect() and a
// first listTools() (cold start ends there: "ready" on stdout) it calls the
// `echo` tool: W warm-up calls one at a time, then N one at a time ("seq")
// and N with K in flight ("conc"). Each echo carries a distinct message and
// its answer is checked. One JSON line per timed phase, the same fields as
// bench_client.c; cpu_s is process.cpuUsage() (this process only, not the
// server) over the phase. Exit 1 if anything fails.
// The SDK installed for the tests (tests/servers/package.json pins it).
const sdk = "../tests/servers/node_modules/@modelcontextprotocol/sdk/dist/esm/client";
const { Client } = await import(`${sdk}/index.js`);
const { StdioClientTransport } = await import(`${sdk}/stdio.js`);

function parseArgs(argv) {
    const o = { warmup: 200, calls: 2000, inflight: 16, coldstart: false, cmd: null };
    let i = 0;
    for (; i < argv.length && argv[i] !== "--"; i++) {
        if (argv[i] === "--coldstart") o.coldstart = true;
        else if (argv[i] === "-w") o.warmup = Number(argv[++i]);
        else if (argv[i] === "-n") o.calls = Number(argv[++i]);
        else if (argv[i] === "-c") o.inflight = Number(argv[++i]);
        else throw new Error(`unknown option ${argv[i]}`);
    }
    o.cmd = argv.slice(i + 1);
    if (o.cmd.length === 0 || !(o.calls >= 1) || !(o.inflight >= 1) || !(o.warmup >= 0))
        throw new Error("usage: sdk_client.mjs [-w W] [-n N] [-c K] [--coldstart] -- CMD...");
    return o;
}

function percentile(sorted, p) {
    return sorted[Math.round(p * (sorted.length - 1))];
}

async function runPhase(client, name, n, k) {
    const lat = new Array(n);
    let next = 0;
    const one = async () => {
        while (next < n) {
            const idx = next++;
            const t = process.hrtime.bigint();
            const r = await client.callTool({ name: "echo",
                                              arguments: { message: `bench-${idx}` } });
            lat[idx] = Number(process.hrtime.bigint() - t) / 1e6;
            const text = r.content && r.content[0] && r.content[0].text;
            if (r.isError || text !== `Echo: bench-${idx}`)
                throw new Error(`call ${idx}: unexpected echo result ${JSON.stringify(r)}`);
        }
    };
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: k }, one));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(cpu0);
    const cpu = (c.user + c.system) / 1e6;
    if (!name) return;
    lat.sort((a, b) => a - b);
    console.log(JSON.stringify({
        client: "sdk", phase: name, calls: n, inflight: k, secs,
        calls_per_s: n / secs, p50_ms: percentile(lat, 0.5), p95_ms: percentile(lat, 0.95),
        cpu_s: cpu, cpu_user_s: c.user / 1e6, cpu_sys_s: c.system / 1e6,
        cpu_us_per_call: (cpu * 1e6) / n,
    }));
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    const transport = new StdioClientTransport({
        command: o.cmd[0],
        args: o.cmd.slice(1),
        stderr: "pipe",
    });
    transport.stderr.on("data", () => {});   // kept from the terminal, like mcpdeck
    const client = new Client({ name: "bench-sdk", version: "1.0.0" });
    try {
        await client.connect(transport);
        const tools = await client.listTools();
        if (o.coldstart) {
            process.stdout.write("ready\n");
            return;
        }
        if (!tools.tools.some((t) => t.name === "echo"))
            throw new Error("the server has no tool named echo");
        await runPhase(client, null, Math.max(o.warmup, 1), 1);
        await runPhase(client, "seq", o.calls, 1);
        await runPhase(client, "conc", o.calls, o.inflight);
    } finally {
        await client.close();
    }
}

main().catch((e) => {
    console.error(`sdk_client: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
});
