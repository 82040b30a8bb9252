// tap.mjs — TAP lines for the Node test clients (tests/run.sh counts them):
// check(name, fn) runs fn; true or undefined is ok, any other value or a
// throw is "not ok" with the reason as comment lines. failed() says
// whether any check failed (the client's exit status).
let anyFailed = false;
const ok = (name) => console.log(`ok - ${name}`);
const notOk = (name, why) => {
    anyFailed = true;
    console.log(`not ok - ${name}`);
    for (const l of String(why).split("\n")) console.log(`#   ${l}`);
};
export async function check(name, fn) {
    try {
        const why = await fn();
        if (why === true || why === undefined) ok(name);
        else notOk(name, why);
    } catch (e) {
        notOk(name, e && e.stack ? e.stack : e);
    }
}
export const failed = () => anyFailed;
// The text content of a CallToolResult, joined by newlines.
export const text = (r) => (r.content || []).filter((c) => c.type === "text").map((c) => c.text)
    .join("\n");
