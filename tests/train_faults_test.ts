// Regression tests of the trainer's defects from issue 12: a stuck worker, concurrent runs.

import assert from "node:assert/strict";
import { createRng, initMLP, Matrix, oneHot, train } from "../mod.ts";
import { runningWorkers } from "../lib/train/_pool.ts";

const rng = createRng(5);
const X = Matrix.zeros(300, 8);
for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
const Y = oneHot(Array.from({ length: X.rows }, () => rng.randint(2)), 2);

/** Runs tests/fixtures/stuck_train.ts, killed after `limit` ms; its JSON line, or undefined. */
async function stuckRun(how: string, limit: number): Promise<Record<string, unknown> | undefined> {
  const script = new URL("./fixtures/stuck_train.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", script, how],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), limit);
  const { stdout, stderr } = await child.output();
  clearTimeout(timer);
  const line = new TextDecoder().decode(stdout).trim();
  if (line === "") console.error(new TextDecoder().decode(stderr));
  return line === "" ? undefined : JSON.parse(line);
}

Deno.test("a worker stuck in its loss does not hang train: the signal aborts it, stepTimeout names it", async (t) => {
  await t.step("signal: AbortSignal.timeout(1000) ends the run as aborted", async () => {
    const out = await stuckRun("signal", 30_000);
    assert.ok(out, "train hung: the child was killed after 30 s");
    assert.equal(out.status, "aborted");
    assert.ok((out.ms as number) < 10_000, `took ${out.ms} ms`);
  });
  await t.step("stepTimeout: 1000 rejects naming the worker and its shard", async () => {
    const out = await stuckRun("stepTimeout", 30_000);
    assert.ok(out, "train hung: the child was killed after 30 s");
    assert.match(
      out.error as string,
      /^train: step \d+ did not finish within stepTimeout \(1000 ms\): worker 1 of 1 \(shard \d+\)$/,
    );
    assert.ok((out.ms as number) < 10_000, `took ${out.ms} ms`);
  });
});

Deno.test("an abort while a worker is still loading stops that worker too", async () => {
  const loss = new URL("./fixtures/user_loss.ts?worker=1&mode=slow", import.meta.url);
  const params = initMLP([8, 25, 10, 2], createRng(0));
  const signal = AbortSignal.timeout(50);
  const result = await train({ params, X, Y, threads: 2, shards: 2, loss, signal });
  assert.equal(result.status, "aborted");
  assert.deepEqual(result.loss, []);
  assert.equal(runningWorkers(), 0);
});

Deno.test("stepTimeout also bounds a worker's loading of the loss module", async () => {
  const loss = new URL("./fixtures/user_loss.ts?worker=2&mode=never", import.meta.url);
  const params = initMLP([8, 25, 10, 2], createRng(0));
  const start = performance.now();
  await assert.rejects(
    train({ params, X, Y, threads: 3, shards: 3, loss, stepTimeout: 500 }),
    /^Error: train: worker 2 of 2 did not load the loss module within stepTimeout \(500 ms\)$/,
  );
  assert.ok(performance.now() - start < 5000);
});

Deno.test("a second train() on parameters already being trained rejects, naming the problem", async () => {
  for (const threads of [1, 2]) {
    const params = initMLP([8, 25, 10, 2], createRng(0));
    const options = { params, X, Y, steps: 30, threads, shards: 2 };
    const first = train(options);
    await assert.rejects(
      train({ ...options, params: [params[0].clone(), params[1]] }),
      /^Error: train: params\[1\] is already being trained by another train\(\) call/,
    );
    assert.equal((await first).status, "ok");
    // Once the first run ends, its matrices can be trained again; copies could be at any time.
    assert.equal((await train(options)).status, "ok");
    assert.equal(runningWorkers(), 0);
  }
});

Deno.test("a run that fails releases its parameters for the next run", async () => {
  const params = initMLP([8, 25, 10, 2], createRng(0));
  await assert.rejects(train({ params, X, Y, loss: "no_such_loss.ts" }), /cannot load/);
  assert.equal((await train({ params, X, Y, steps: 5, threads: 1 })).status, "ok");
});
