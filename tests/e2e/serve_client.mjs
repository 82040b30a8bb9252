// serve_client.mjs — the official TypeScript SDK client against `mcpdeck serve`
// (tests/e2e/serve.sh runs it). Prints one TAP line per check; exits 1 if any
// failed.
//
//   node serve_client.mjs main|breaker|relay -- CMD [ARG...]
//
// main: the aggregated tool list, calls through mcpdeck (everything__echo,
// memory__memory_store then memory__memory_search), progress of a long
// operation reaching this client, a cancelled call (the cancelled job's
// server__tool is printed as "# cancelled-call" for the shell to check in the
// store), a submit_task / task_status / task_result round trip, and a
// server's sampling and elicitation left to the engine (this client declares
// neither).
// breaker: the first call of flaky__echo fails and opens the breaker; the
// second is refused with a clear error.
// relay: a client declaring sampling and elicitation; the checks of
// serve_relay.mjs (server requests relayed to it, subscriptions, pages), with
// serve.page_size 5 and serve.relay_timeout 3s in the config.
const sdk = new URL("../servers/node_modules/@modelcontextprotocol/sdk/dist/esm/", import.meta.url);
const { Client } = await import(new URL("client/index.js", sdk));
const { StdioClientTransport } = await import(new URL("client/stdio.js", sdk));

const mode = process.argv[2];
const dash = process.argv.indexOf("--");
const cmd = process.argv.slice(dash + 1);
const { check, failed, text } = await import(new URL("tap.mjs", import.meta.url));

const transport = new StdioClientTransport({ command: cmd[0], args: cmd.slice(1),
                                             env: process.env, stderr: "inherit" });
const { relayClient, relayChecks } = await import(new URL("serve_relay.mjs", import.meta.url));
const relay = mode === "relay" ? relayClient("serve-e2e-relay") : null;
const client = relay ? relay.client : new Client({ name: "serve-e2e", version: "1.0.0" });
await client.connect(transport);

if (mode === "main") {
    await check("the SDK client negotiates with mcpdeck serve", () => {
        const v = client.getServerVersion();
        return v && v.name === "mcpdeck" ? true : `server info ${JSON.stringify(v)}`;
    });
    await check("tools/list aggregates downstream, built-in and task tools", async () => {
        const names = (await client.listTools()).tools.map((t) => t.name);
        const want = ["everything__echo", "everything__trigger-long-running-operation",
                      "fs__read_text_file", "git__status", "memory__memory_store",
                      "memory__memory_search", "submit_task", "task_status", "task_result",
                      "cancel_task"];
        const missing = want.filter((n) => !names.includes(n));
        return missing.length === 0 ? true : `missing ${missing} in ${names}`;
    });
    await check("everything__echo answers through mcpdeck", async () => {
        const r = await client.callTool({ name: "everything__echo",
                                          arguments: { message: "hello through serve" } });
        return text(r) === "Echo: hello through serve" && !r.isError ? true : JSON.stringify(r);
    });
    await check("memory__memory_store then memory__memory_search finds it", async () => {
        const s = await client.callTool({ name: "memory__memory_store",
            arguments: { text: "serve e2e: the zebra migration happens in July",
                         namespace: "shared" } });
        if (s.isError) return `store: ${JSON.stringify(s)}`;
        const q = await client.callTool({ name: "memory__memory_search",
            arguments: { query: "zebra migration", namespace: "shared" } });
        return !q.isError && text(q).includes("zebra migration happens in July")
            ? true : `search: ${JSON.stringify(q)}`;
    });
    await check("progress of a long operation reaches the SDK client", async () => {
        const seen = [];
        const r = await client.callTool(
            { name: "everything__trigger-long-running-operation",
              arguments: { duration: 1, steps: 4 } },
            undefined, { onprogress: (p) => seen.push(p) });
        if (r.isError) return JSON.stringify(r);
        // server-everything sends its last notification without waiting
        // for it, so it may come after the answer (then the SDK drops it):
        // the first three, in order, are what a relay must deliver
        const ok = seen.length >= 3 && seen[0].total === 4 &&
                   seen.slice(0, 3).every((p, i) => p.progress === i + 1);
        return ok ? true : `progress seen: ${JSON.stringify(seen)}`;
    });
    await check("cancelling a call stops waiting at once", async () => {
        const ac = new AbortController();
        const t0 = Date.now();
        let progressed = 0;
        const p = client.callTool(
            { name: "everything__trigger-long-running-operation",
              arguments: { duration: 30, steps: 30 } },
            undefined, { signal: ac.signal, onprogress: () => {
                if (++progressed === 1) ac.abort("e2e cancels it");
            } });
        try {
            await p;
            return "the call finished although it was cancelled";
        } catch (e) {
            const ms = Date.now() - t0;
            console.log("# cancelled-call everything.trigger-long-running-operation");
            return progressed >= 1 && ms < 10000 ? true : `after ${ms} ms, ${progressed} progress`;
        }
    });
    await check("a ping after the cancel is answered (the session goes on)", async () => {
        await client.ping();
    });
    let id = 0;
    await check("submit_task queues a tool task", async () => {
        const r = await client.callTool({ name: "submit_task",
            arguments: { tool: "everything__echo", arguments: { message: "queued via serve" } } });
        id = r.structuredContent && r.structuredContent.task_id;
        return !r.isError && id > 0 ? true : JSON.stringify(r);
    });
    await check("task_result waits for it and returns its result", async () => {
        const r = await client.callTool({ name: "task_result", arguments: { task_id: id, wait: 20 } });
        const sc = r.structuredContent || {};
        return !r.isError && sc.status === "succeeded" && sc.done === true &&
               text(r).includes("Echo: queued via serve") ? true : JSON.stringify(r);
    });
    await check("task_status says succeeded, on everything", async () => {
        const r = await client.callTool({ name: "task_status", arguments: { task_id: id } });
        const sc = r.structuredContent || {};
        return sc.status === "succeeded" && sc.server === "everything" && sc.tool === "echo"
            ? true : JSON.stringify(r);
    });
    await check("cancel_task cancels a queued task (it never runs)", async () => {
        const r = await client.callTool({ name: "submit_task",
            arguments: { tool: "everything__trigger-long-running-operation",
                         arguments: { duration: 30, steps: 3 } } });
        const tid = r.structuredContent.task_id;
        const c = await client.callTool({ name: "cancel_task", arguments: { task_id: tid } });
        const s = await client.callTool({ name: "task_status", arguments: { task_id: tid } });
        return !c.isError && s.structuredContent.status === "cancelled"
            ? true : `${JSON.stringify(c)} ${JSON.stringify(s)}`;
    });
    // this client declares neither sampling nor elicitation: the engine answers
    await check("a sampling request is not relayed to a client without sampling: no model " +
                "here, the tool is told so", async () => {
        const r = await client.callTool({ name: "everything__trigger-sampling-request",
                                          arguments: { prompt: "nobody to ask" } });
        return r.isError && /no model is configured/.test(text(r)) ? true : JSON.stringify(r);
    });
    await check("... nor an elicitation: serve has no one to ask, it is declined", async () => {
        const r = await client.callTool({ name: "everything__trigger-elicitation-request",
                                          arguments: {} });
        return !r.isError && /declined/.test(text(r)) ? true : JSON.stringify(r);
    });
    await check("an unknown tool is a JSON-RPC error naming it", async () => {
        try {
            const r = await client.callTool({ name: "nosuch__tool", arguments: {} });
            return r.isError && text(r).includes("nosuch__tool") ? true : JSON.stringify(r);
        } catch (e) {
            return String(e).includes("nosuch__tool") ? true : String(e);
        }
    });
} else if (mode === "relay") {
    await relayChecks(client, relay.seen, { pageSize: 5, relayTimeout: 3 });
} else if (mode === "breaker") {
    await check("the flaky server's first failure comes back as a tool error", async () => {
        const r = await client.callTool({ name: "flaky__echo", arguments: {} });
        return r.isError && /flaky|internal/i.test(text(r)) ? true : JSON.stringify(r);
    });
    await check("with the breaker open, the call gets a clear error", async () => {
        const r = await client.callTool({ name: "flaky__echo", arguments: {} });
        return r.isError && /circuit breaker is open/.test(text(r)) && /flaky/.test(text(r))
            ? true : JSON.stringify(r);
    });
    await check("other servers still answer", async () => {
        const r = await client.callTool({ name: "fs__get_file_info", arguments: { path: "." } });
        return !r.isError ? true : JSON.stringify(r);
    });
}
await client.close();
process.exit(failed() ? 1 : 0);
