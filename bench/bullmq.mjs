// bullmq.mjs — the peer of bench_queue.c: job lifecycles per second with
// BullMQ on Redis (add -> worker -> completed), same job count, same job
// data and result shape.
//
//   node bullmq.mjs PORT
//
// Like bench_queue.c, the producer first adds every job (a backlog), then
// one Worker processes them all; each mode runs on a fresh queue after
// WARMUP jobs that are not timed. Modes:
//   add      queue.add() per job, GROUP adds in flight at a time
//   addBulk  queue.addBulk() of GROUP jobs at a time
// The worker runs with CONCURRENCY jobs at once; completed jobs are kept
// (BullMQ's default), as jobq keeps results. Prints one JSON line per mode;
// exit 1 if a job fails or the counts do not add up.
//
// Environment: QUEUE_JOBS (20000), QUEUE_WARMUP (1000), QUEUE_GROUP (100),
// BULLMQ_CONCURRENCY (16).
import { Queue, Worker } from "bullmq";

const port = Number(process.argv[2]);
if (!port) {
    console.error("usage: node bullmq.mjs REDIS_PORT");
    process.exit(2);
}
const env = (k, d) => Number(process.env[k] || d);
const JOBS = env("QUEUE_JOBS", 20000), WARMUP = env("QUEUE_WARMUP", 1000);
const GROUP = env("QUEUE_GROUP", 100), CONCURRENCY = env("BULLMQ_CONCURRENCY", 16);
const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };

const jobData = (i) => ({ server: "everything", tool: "echo", args: { message: `job-${i}` } });
const process_ = async (job) => ({
    content: [{ type: "text", text: `Echo: ${job.data.args.message}` }],
});

async function produce(queue, mode, base, n) {
    for (let i = 0; i < n; i += GROUP) {
        const k = Math.min(GROUP, n - i);
        const batch = Array.from({ length: k }, (_, j) => jobData(base + i + j));
        if (mode === "addBulk")
            await queue.addBulk(batch.map((data) => ({ name: "echo", data })));
        else
            await Promise.all(batch.map((data) => queue.add("echo", data)));
    }
}

async function consume(name, n) {
    let done = 0, failed = null;
    const worker = new Worker(name, process_, { connection, concurrency: CONCURRENCY,
                                                autorun: false });
    const finished = new Promise((resolve) => {
        worker.on("completed", (job, result) => {
            if (result.content[0].text !== `Echo: ${job.data.args.message}`)
                failed ||= new Error(`job ${job.id}: wrong result`);
            if (++done === n) resolve();
        });
        worker.on("failed", (job, err) => {
            failed ||= err;
            resolve();
        });
        worker.on("error", (err) => {
            failed ||= err;
            resolve();
        });
    });
    worker.run();
    await finished;
    await worker.close();
    if (failed) throw failed;
}

async function runMode(mode) {
    const name = `bench-${mode}-${process.pid}`;
    const queue = new Queue(name, { connection });
    try {
        await produce(queue, mode, -WARMUP, WARMUP);
        await consume(name, WARMUP);
        const t0 = process.hrtime.bigint();
        await produce(queue, mode, 0, JOBS);
        const t1 = process.hrtime.bigint();
        await consume(name, JOBS);
        const t2 = process.hrtime.bigint();
        const c = await queue.getJobCounts("completed", "failed", "waiting", "active");
        if (c.completed !== JOBS + WARMUP || c.failed || c.waiting || c.active)
            throw new Error(`${mode}: counts ${JSON.stringify(c)}`);
        const sSub = Number(t1 - t0) / 1e9, sDrain = Number(t2 - t1) / 1e9;
        console.log(JSON.stringify({
            mode, group: GROUP, concurrency: CONCURRENCY, jobs: JOBS,
            submit_s: sSub, drain_s: sDrain, submit_per_s: JOBS / sSub,
            drain_per_s: JOBS / sDrain, lifecycles_per_s: JOBS / (sSub + sDrain),
        }));
        await queue.obliterate({ force: true });
    } finally {
        await queue.close();
    }
}

try {
    await runMode("add");
    await runMode("addBulk");
} catch (e) {
    console.error(`bullmq: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
}
