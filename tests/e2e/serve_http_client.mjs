// serve_http_client.mjs — the official TypeScript SDK client against
// `mcpdeck serve --http` (tests/e2e/serve_http.sh runs it). Prints one TAP
// line per check; exits 1 if any failed.
//
//   node serve_http_client.mjs main URL [TOKEN]
//   node serve_http_client.mjs two URL DIR
//   node serve_http_client.mjs relay URL
//
// main: the aggregated tool list over Streamable HTTP, everything__echo and
// memory__memory_store / memory__memory_search through mcpdeck, progress of a
// long operation on the request's SSE stream, a cancelled call, the session
// ended with DELETE (then its id is unknown: 404).
// two: two SDK clients at once, each with its own session, both calling
// everything__echo; writes DIR/connected and waits for DIR/done so the shell
// can count downstream processes while both are connected.
// relay: a client declaring sampling and elicitation; the checks of
// serve_relay.mjs (server requests relayed to it on the call's SSE stream,
// subscriptions, pages), with serve.page_size 5 and serve.relay_timeout 3s.
import fs from "node:fs";
import path from "node:path";

const sdk = new URL("../servers/node_modules/@modelcontextprotocol/sdk/dist/esm/", import.meta.url);
const { Client } = await import(new URL("client/index.js", sdk));
const { StreamableHTTPClientTransport } = await import(new URL("client/streamableHttp.js", sdk));

const [mode, url, extra] = process.argv.slice(2);
const { check, failed, text } = await import(new URL("tap.mjs", import.meta.url));
const { relayClient, relayChecks } = await import(new URL("serve_relay.mjs", import.meta.url));

async function connect(name, token) {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
    const client = new Client({ name, version: "1.0.0" });
    await client.connect(transport);
    return { client, transport };
}

if (mode === "main") {
    const token = extra;
    const { client, transport } = await connect("serve-http-e2e", token);
    await check("the SDK client initializes over Streamable HTTP and gets a session id", () => {
        const v = client.getServerVersion();
        return v && v.name === "mcpdeck" && /^[0-9a-f]{32}$/.test(transport.sessionId || "")
            ? true : `server ${JSON.stringify(v)} session ${transport.sessionId}`;
    });
    await check("tools/list aggregates downstream, built-in and task tools", async () => {
        const names = (await client.listTools()).tools.map((t) => t.name);
        const want = ["everything__echo", "fs__read_text_file", "memory__memory_store",
                      "memory__memory_search", "submit_task"];
        const missing = want.filter((n) => !names.includes(n));
        return missing.length === 0 ? true : `missing ${missing} in ${names}`;
    });
    await check("everything__echo answers through mcpdeck over HTTP", async () => {
        const r = await client.callTool({ name: "everything__echo",
                                          arguments: { message: "hello over http" } });
        return text(r) === "Echo: hello over http" && !r.isError ? true : JSON.stringify(r);
    });
    await check("memory__memory_store then memory__memory_search finds it", async () => {
        const s = await client.callTool({ name: "memory__memory_store",
            arguments: { text: "http e2e: the okapi census is in March", namespace: "shared" } });
        if (s.isError) return `store: ${JSON.stringify(s)}`;
        const q = await client.callTool({ name: "memory__memory_search",
            arguments: { query: "okapi census", namespace: "shared" } });
        return !q.isError && text(q).includes("okapi census is in March")
            ? true : `search: ${JSON.stringify(q)}`;
    });
    await check("progress of a long operation comes on the request's SSE stream", async () => {
        const seen = [];
        const r = await client.callTool(
            { name: "everything__trigger-long-running-operation",
              arguments: { duration: 1, steps: 4 } },
            undefined, { onprogress: (p) => seen.push(p) });
        if (r.isError) return JSON.stringify(r);
        // (the last step's progress may trail the answer: not counted on)
        const rising = seen.every((p, i) => i === 0 || p.progress > seen[i - 1].progress);
        return seen.length >= 2 && rising && seen.every((p) => p.total === 4)
            ? true : `progress seen: ${JSON.stringify(seen)}`;
    });
    await check("a cancelled call stops at once and the session goes on", async () => {
        const ac = new AbortController();
        const t0 = Date.now();
        let progressed = 0;
        try {
            await client.callTool(
                { name: "everything__trigger-long-running-operation",
                  arguments: { duration: 30, steps: 30 } },
                undefined, { signal: ac.signal, onprogress: () => {
                    if (++progressed === 1) ac.abort("e2e cancels it");
                } });
            return "the call finished although it was cancelled";
        } catch (e) {
            const ms = Date.now() - t0;
            await client.ping();
            return progressed >= 1 && ms < 10000 ? true : `after ${ms} ms, ${progressed} progress`;
        }
    });
    const sid = transport.sessionId;
    await check("DELETE ends the session; its id is then unknown (404)", async () => {
        await transport.terminateSession();
        const headers = { "Content-Type": "application/json",
                          Accept: "application/json, text/event-stream",
                          "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25" };
        if (token) headers.Authorization = `Bearer ${token}`;
        const r = await fetch(url, { method: "POST", headers,
            body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "ping" }) });
        return r.status === 404 ? true : `status ${r.status}`;
    });
    await client.close();
} else if (mode === "relay") {
    const { client, seen } = relayClient("serve-http-relay");
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    await relayChecks(client, seen, { pageSize: 5, relayTimeout: 3 });
    await client.close();
} else if (mode === "two") {
    const dir = extra;
    const a = await connect("serve-http-a");
    const b = await connect("serve-http-b");
    await check("two clients at once get two sessions", () =>
        a.transport.sessionId !== b.transport.sessionId ? true : "the same session id");
    await check("both call everything__echo at the same time", async () => {
        const [ra, rb] = await Promise.all([
            a.client.callTool({ name: "everything__echo", arguments: { message: "from a" } }),
            b.client.callTool({ name: "everything__echo", arguments: { message: "from b" } })]);
        return text(ra) === "Echo: from a" && text(rb) === "Echo: from b"
            ? true : `${JSON.stringify(ra)} ${JSON.stringify(rb)}`;
    });
    fs.writeFileSync(path.join(dir, "connected"), "");
    for (let i = 0; i < 300 && !fs.existsSync(path.join(dir, "done")); i++)
        await new Promise((r) => setTimeout(r, 100));
    await check("both sessions still answer after the count", async () => {
        await Promise.all([a.client.ping(), b.client.ping()]);
    });
    await a.client.close();
    await b.client.close();
}
process.exit(failed() ? 1 : 0);
