// serve_relay.mjs — the relay checks both SDK test clients run against mcpdeck
// serve with a downstream server-everything (serve_client.mjs over stdio,
// serve_http_client.mjs over Streamable HTTP):
//
//   relayClient(name)   an SDK Client declaring sampling and elicitation (form),
//                       with handlers that record what they were asked
//   relayChecks(client, { pageSize, relayTimeout })
//       sampling and elicitation requests of server-everything's tools come
//       to this client and its answers reach the tools (the elicitation with
//       the schema's defaults filled in by mcpdeck); an error answer and a
//       declined form reach them too; a relayed request is cancelled when its
//       call is, and when the client does not answer within relayTimeout s;
//       resources/subscribe through serve brings notifications/resources/updated;
//       the lists come in pages of pageSize and the cursors walk them whole; a
//       bad cursor is a -32602 error.
const sdk = new URL("../servers/node_modules/@modelcontextprotocol/sdk/dist/esm/", import.meta.url);
const { Client } = await import(new URL("client/index.js", sdk));
const types = await import(new URL("types.js", sdk));
const { check, text } = await import(new URL("tap.mjs", import.meta.url));

const RESOURCE = "demo://resource/static/document/architecture.md";

export function relayClient(name) {
    const client = new Client({ name, version: "1.0.0" },
                              { capabilities: { sampling: {}, elicitation: { form: {} } } });
    const seen = { sampling: [], elicit: [], aborted: [], updated: [] };
    client.setRequestHandler(types.CreateMessageRequestSchema, async (req, extra) => {
        const asked = req.params.messages.map((m) => m.content.text || "").join(" ");
        seen.sampling.push(asked);
        if (asked.includes("please fail"))
            throw new types.McpError(-32001, "the e2e client refuses this one");
        if (asked.includes("hang")) {     // answers only when told to stop
            await new Promise((resolve) => extra.signal.addEventListener("abort", resolve));
            seen.aborted.push(asked);
            throw new types.McpError(-32800, "aborted");
        }
        return { role: "assistant", model: "e2e-outer-model", stopReason: "endTurn",
                 content: { type: "text", text: `outer answer to [${asked}]` } };
    });
    client.setRequestHandler(types.ElicitRequestSchema, async (req) => {
        seen.elicit.push(req.params.message);
        if (seen.elicit.length > 1)
            return { action: "decline" };
        return { action: "accept", content: { name: "Ada Lovelace", check: true } };
    });
    client.setNotificationHandler(types.ResourceUpdatedNotificationSchema, (n) => {
        seen.updated.push(n.params.uri);
    });
    return { client, seen };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(cond, ms) {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end)
        await sleep(50);
    return cond();
}

// Every page of a list method; the items, and the size of each page.
async function walk(client, method, key) {
    const schema = { "tools/list": types.ListToolsResultSchema,
                     "resources/list": types.ListResourcesResultSchema,
                     "prompts/list": types.ListPromptsResultSchema }[method];
    const items = [];
    const sizes = [];
    let cursor;
    for (let i = 0; i < 100; i++) {
        const r = await client.request({ method, params: cursor ? { cursor } : {} }, schema);
        items.push(...r[key]);
        sizes.push(r[key].length);
        cursor = r.nextCursor;
        if (!cursor) break;
    }
    return { items, sizes };
}

export async function relayChecks(client, seen, { pageSize, relayTimeout }) {
    await check("mcpdeck's downstream client declared sampling and elicitation " +
                "(server-everything lists its trigger tools)", async () => {
        const { items } = await walk(client, "tools/list", "tools");
        const names = items.map((t) => t.name);
        const want = ["everything__trigger-sampling-request",
                      "everything__trigger-elicitation-request"];
        const missing = want.filter((n) => !names.includes(n));
        return missing.length === 0 ? true : `missing ${missing} in ${names}`;
    });
    await check("a sampling request of a downstream tool comes to this client, and its " +
                "answer reaches the tool", async () => {
        const r = await client.callTool({ name: "everything__trigger-sampling-request",
                                          arguments: { prompt: "relay the zebra" } });
        const asked = seen.sampling.some((s) => s.includes("relay the zebra"));
        return asked && !r.isError && text(r).includes("outer answer to [") &&
               text(r).includes("e2e-outer-model")
            ? true : `asked ${JSON.stringify(seen.sampling)}; result ${JSON.stringify(r)}`;
    });
    await check("an error answer to a relayed sampling request reaches the tool", async () => {
        const r = await client.callTool({ name: "everything__trigger-sampling-request",
                                          arguments: { prompt: "please fail" } });
        return r.isError && text(r).includes("the e2e client refuses this one")
            ? true : JSON.stringify(r);
    });
    await check("an elicitation of a downstream tool comes to this client; the accepted " +
                "form reaches the tool with the schema's defaults filled in", async () => {
        const r = await client.callTool({ name: "everything__trigger-elicitation-request",
                                          arguments: {} });
        const t = text(r);
        return seen.elicit.length === 1 && !r.isError && t.includes("Name: Ada Lovelace") &&
               t.includes("Agreed to terms: true") && t.includes("Favorite Integer: 42")
            ? true : `elicit ${seen.elicit.length}; ${JSON.stringify(r)}`;
    });
    await check("a declined form reaches the tool as declined", async () => {
        const r = await client.callTool({ name: "everything__trigger-elicitation-request",
                                          arguments: {} });
        return seen.elicit.length === 2 && text(r).includes("declined")
            ? true : JSON.stringify(r);
    });
    await check("cancelling the call cancels its relayed request at this client", async () => {
        const ac = new AbortController();
        const before = seen.aborted.length;
        const p = client.callTool({ name: "everything__trigger-sampling-request",
                                    arguments: { prompt: "hang on cancel" } },
                                  undefined, { signal: ac.signal });
        p.catch(() => {});
        if (!await until(() => seen.sampling.some((s) => s.includes("hang on cancel")), 10000))
            return "the sampling request never came";
        ac.abort("e2e cancels the call");
        return await until(() => seen.aborted.length > before, 10000)
            ? true : "the relayed request was not cancelled";
    });
    await check(`a relayed request this client does not answer ends after ${relayTimeout} s ` +
                "(serve.relay_timeout), the tool told so", async () => {
        const t0 = Date.now();
        const r = await client.callTool({ name: "everything__trigger-sampling-request",
                                          arguments: { prompt: "hang until timeout" } });
        const s = (Date.now() - t0) / 1000;
        return r.isError && /did not answer within/.test(text(r)) && s >= relayTimeout - 0.5 &&
               seen.aborted.some((a) => a.includes("hang until timeout"))
            ? true : `after ${s} s: ${JSON.stringify(r)}; aborted ${seen.aborted}`;
    });
    await check("serve advertises resources.subscribe", () => {
        const c = client.getServerCapabilities();
        return c.resources && c.resources.subscribe === true ? true : JSON.stringify(c);
    });
    await check("resources/subscribe through serve brings notifications/resources/updated",
                async () => {
        await client.subscribeResource({ uri: RESOURCE });
        // server-everything sends updates of subscribed resources once this is on
        const r = await client.callTool({ name: "everything__toggle-subscriber-updates",
                                          arguments: {} });
        if (r.isError) return JSON.stringify(r);
        return await until(() => seen.updated.includes(RESOURCE), 12000)
            ? true : `updates seen: ${JSON.stringify(seen.updated)}`;
    });
    await check("after resources/unsubscribe no more updates come", async () => {
        await client.unsubscribeResource({ uri: RESOURCE });
        await sleep(300);        // what was on its way
        const n = seen.updated.length;
        await sleep(6000);       // server-everything's pace is 5 s
        await client.callTool({ name: "everything__toggle-subscriber-updates", arguments: {} });
        return seen.updated.length === n ? true : `${seen.updated.length - n} more came`;
    });
    await check("subscribing to a URI no server lists is an error", async () => {
        try {
            await client.subscribeResource({ uri: "demo://no/such/thing" });
            return "it was accepted";
        } catch (e) {
            return /not found/i.test(String(e)) ? true : String(e);
        }
    });
    for (const [method, key, min] of [["tools/list", "tools", 20],
                                      ["resources/list", "resources", pageSize + 1],
                                      ["prompts/list", "prompts", 2]]) {
        await check(`${method} comes in pages of at most ${pageSize}; the cursors walk it ` +
                    "whole", async () => {
            const { items, sizes } = await walk(client, method, key);
            const ids = items.map((x) => x.name + (x.uri || ""));
            const unique = new Set(ids).size === ids.length;
            const full = sizes.slice(0, -1).every((n) => n === pageSize);
            return items.length >= min && sizes.every((n) => n <= pageSize) && full && unique &&
                   sizes.length === Math.ceil(items.length / pageSize)
                ? true : `sizes ${sizes}, ${items.length} items, unique ${unique}`;
        });
    }
    await check("the tool list's last page ends with the task tools", async () => {
        const { items } = await walk(client, "tools/list", "tools");
        return items.length > 0 && items[items.length - 1].name === "cancel_task"
            ? true : items.map((t) => t.name).join(" ");
    });
    await check("a cursor serve did not give is a -32602 error", async () => {
        try {
            await client.request({ method: "tools/list", params: { cursor: "made-up" } },
                                 types.ListToolsResultSchema);
            return "it was accepted";
        } catch (e) {
            return e.code === -32602 && /cursor/.test(e.message) ? true : String(e);
        }
    });
}
