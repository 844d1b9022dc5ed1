// Tests of the data-parallel trainer: exact averaging, determinism across worker counts, faults.

import assert from "node:assert/strict";
import { createRng, grad, initMLP, Matrix, mseLoss, train, type TrainOptions } from "../mod.ts";
import { allocateBuffers, gatherRows } from "../lib/train/_protocol.ts";
import { copyIn, layoutOf } from "../lib/train/_params.ts";
import { runningWorkers } from "../lib/train/_pool.ts";
import { openStepRunner } from "../lib/train/_pool.ts";

const USER_LOSS = new URL("./fixtures/user_loss.ts", import.meta.url);
const MLP_LOSS = new URL("../lib/train/mlp_loss.ts", import.meta.url).href;

/** A seeded synthetic classification set: samples × features and one-hot targets. */
function synthetic(samples: number, features: number, seed = 1): { X: Matrix; Y: Matrix } {
  const rng = createRng(seed);
  const X = Matrix.zeros(samples, features), Y = Matrix.zeros(samples, 2);
  for (let i = 0; i < samples; i++) {
    let s = 0;
    for (let j = 0; j < features; j++) {
      const v = rng.normal();
      X.data[i * features + j] = v;
      s += v * (j % 2 === 0 ? 1 : -0.5);
    }
    Y.data[i * 2 + (s > 0 ? 1 : 0)] = 1;
  }
  return { X, Y };
}

const data = synthetic(500, 8);
const seedNet = () => initMLP([8, 25, 10, 2], createRng(0));

/** The batch gradient as the trainer computes it, on `threads` threads. */
async function parallelGradient(
  params: Matrix[],
  indices: Int32Array,
  threads: number,
  shards: number,
): Promise<Float64Array> {
  const { layout, leaves } = layoutOf(params);
  const buffers = allocateBuffers(layout, data, indices.length, shards, threads);
  copyIn(leaves, buffers.params);
  buffers.indices.set(indices);
  const runner = await openStepRunner(buffers, mseLoss, { lossUrl: MLP_LOSS });
  try {
    assert.equal(await runner.step(1), true);
  } finally {
    await runner.close();
  }
  return buffers.slabs.slice(0, buffers.params.length);
}

Deno.test("parallel gradient of a batch equals the full-batch gradient", async (t) => {
  const params = seedNet();
  const rng = createRng(7);
  const indices = Int32Array.from({ length: 100 }, () => rng.randint(data.X.rows));
  const Xb = Matrix.zeros(100, 8), Yb = Matrix.zeros(100, 2);
  gatherRows(data.X, indices, 0, Xb);
  gatherRows(data.Y, indices, 0, Yb);
  const want = Float64Array.from(grad(mseLoss)(params, Xb, Yb).flatMap((m) => [...m.data]));
  const scale = Math.max(...want.map(Math.abs));
  for (const threads of [1, 2, 3, 4]) {
    // shards = threads gives each thread one shard (33/33/34 rows on 3); 12 and 7 split unevenly.
    for (const shards of [threads, 7, 12]) {
      await t.step(`${threads} thread(s), ${shards} shard(s)`, async () => {
        const got = await parallelGradient(params, indices, threads, shards);
        const err = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
        assert.ok(err <= 1e-12 * scale, `max error ${err} relative to ${scale}`);
      });
    }
  }
});

Deno.test("the step interface gives the same bits in-process and on the worker pool", async () => {
  const params = seedNet();
  const rng = createRng(9);
  const indices = Int32Array.from({ length: 100 }, () => rng.randint(data.X.rows));
  for (const shards of [6, 7]) {
    const inProcess = await parallelGradient(params, indices, 1, shards);
    for (const threads of [2, 3]) {
      assert.deepEqual(await parallelGradient(params, indices, threads, shards), inProcess);
    }
  }
});

Deno.test("a { W, b, s } parameter tree trains bit-identically on 1 and 2 threads", async () => {
  const LINEAR = new URL("./fixtures/linear_loss.ts", import.meta.url);
  const init = () => {
    const r = createRng(2);
    const W = Matrix.zeros(2, 8);
    for (let i = 0; i < W.data.length; i++) W.data[i] = 0.1 * r.normal();
    return { W, b: Matrix.zeros(2, 1), s: 0.5 };
  };
  const runTree = (threads: number) => {
    const params = init();
    const options = { X: data.X, Y: data.Y, steps: 40, logEvery: 10, shards: 4, loss: LINEAR };
    return train({ params, threads, lr: 0.05, ...options }).then((r) => ({ params, r }));
  };
  const one = await runTree(1), two = await runTree(2);
  assert.equal(two.r.threads, 2);
  assert.deepEqual(two.r.loss, one.r.loss);
  assert.deepEqual(two.r.params, one.r.params);
  // Matrices are trained in place; the number leaf comes back in a rebuilt tree.
  assert.equal(one.r.params.W, one.params.W);
  assert.notEqual(one.r.params.s, 0.5);
  assert.ok(one.r.loss.at(-1)!.loss < one.r.loss[0].loss);
});

function run(options: Partial<TrainOptions>) {
  const params = options.params ?? seedNet();
  return train({ params, X: data.X, Y: data.Y, steps: 60, logEvery: 20, ...options });
}

Deno.test("training is bit-identical for 1, 2, 3 and 4 threads", async (t) => {
  for (const shards of [12, 5]) {
    await t.step(`${shards} shards`, async () => {
      const reference = await run({ workers: 1, shards });
      for (const workers of [2, 3, 4]) {
        const result = await run({ workers, shards });
        assert.equal(result.workers, workers);
        assert.deepEqual(result.loss, reference.loss);
        assert.deepEqual(result.params.map((p) => p.data), reference.params.map((p) => p.data));
        assert.equal(runningWorkers(), 0);
      }
    });
  }
  await t.step("default shards on a step big enough to split", async () => {
    const net = () => initMLP([8, 64, 64, 2], createRng(3));
    const reference = await run({ params: net(), batch: 300, steps: 10, workers: 1 });
    assert.equal(reference.shards, 6);
    const result = await run({ params: net(), batch: 300, steps: 10, workers: 2 });
    assert.deepEqual(result.params.map((p) => p.data), reference.params.map((p) => p.data));
  });
});

Deno.test("parallel training updates the caller's matrices in place", async () => {
  const params = seedNet();
  const before = params.map((p) => p.clone());
  const result = await run({ params, workers: 2, shards: 2 });
  assert.equal(result.params, params);
  assert.notDeepEqual(params[0].data, before[0].data);
  assert.equal(params[0].isShared, false);
});

Deno.test("a custom loss module is used by every thread", async () => {
  // 2·MSE at lr 0.01 takes exactly the steps of MSE at lr 0.02 (scaling by 2 is exact).
  const doubled = new URL("?scale=2", USER_LOSS);
  for (const workers of [1, 2]) {
    const custom = await run({ workers, shards: 4, loss: doubled, lr: 0.01 });
    const plain = await run({ workers, shards: 4, lr: 0.02 });
    assert.deepEqual(custom.params.map((p) => p.data), plain.params.map((p) => p.data));
    assert.deepEqual(custom.loss.map((e) => e.loss), plain.loss.map((e) => 2 * e.loss));
  }
});

Deno.test("a loss module without a loss export is rejected", async () => {
  await assert.rejects(
    run({ workers: 1, loss: new URL("../lib/train/_protocol.ts", import.meta.url) }),
    /does not export a function named "loss"/,
  );
});

Deno.test("worker faults reject within 1 s, stop all workers, keep the last step", async (t) => {
  // Workers claim shards as they come free, so the step of a worker's third loss call
  // varies: read it from the error, and compare with a run that stops just before it.
  const faults = [
    ["throw", /Error: injected fault on call 3$/],
    ["close", /the worker called self\.close\(\)$/],
    ["exit", /the worker called Deno\.exit\(7\)$/],
  ] as const;
  for (const [mode, cause] of faults) {
    await t.step(`a worker that calls ${mode}`, async () => {
      const params = seedNet();
      let lastStepAt = 0;
      const loss = new URL(`?worker=1&call=3&mode=${mode}`, USER_LOSS);
      const error = await run({
        params,
        workers: 2,
        shards: 12,
        steps: 100,
        logEvery: 1,
        loss,
        onLog: () => lastStepAt = performance.now(),
      }).then(() => assert.fail("train resolved"), (e: Error) => e);
      const latency = performance.now() - lastStepAt;
      assert.match(error.message, /^train: worker 1 of 1 failed at step \d+: /);
      assert.match(error.message, cause);
      assert.ok(latency < 1000, `rejected ${latency.toFixed(0)} ms after the last good step`);
      const step = Number(/at step (\d+)/.exec(error.message)![1]);
      const previous = await run({ workers: 1, shards: 12, steps: step - 1 });
      assert.deepEqual(params.map((p) => p.data), previous.params.map((p) => p.data));
      assert.equal(runningWorkers(), 0);
    });
  }
  await t.step("a worker whose loss module fails to load", async () => {
    const loss = new URL("?worker=2&mode=import", USER_LOSS);
    await assert.rejects(
      run({ workers: 3, shards: 3, loss }),
      /worker 2 of 2 failed while starting: .*injected fault while loading/,
    );
    assert.equal(runningWorkers(), 0);
  });
  await t.step("the main thread's own shard throws", async () => {
    const loss = new URL("?worker=main&call=2", USER_LOSS);
    await assert.rejects(run({ workers: 3, shards: 3, loss }), /injected fault on call 2/);
    assert.equal(runningWorkers(), 0);
  });
  await t.step("onLog throws", async () => {
    const onLog = ({ step }: { step: number }) => {
      if (step === 2) throw new Error("onLog failed");
    };
    await assert.rejects(run({ workers: 3, shards: 3, logEvery: 1, onLog }), /onLog failed/);
    assert.equal(runningWorkers(), 0);
  });
});

Deno.test("an AbortSignal stops training between steps", async (t) => {
  for (const workers of [1, 2]) {
    await t.step(`${workers} worker(s), aborted from onLog`, async () => {
      const controller = new AbortController();
      const result = await run({
        workers,
        shards: 2,
        logEvery: 1,
        signal: controller.signal,
        onLog: ({ step }) => step === 20 && controller.abort(),
      });
      assert.equal(result.status, "aborted");
      assert.equal(result.loss.at(-1)?.step, 20);
      const twenty = await run({ workers: 1, shards: 2, steps: 20 });
      assert.deepEqual(result.params.map((p) => p.data), twenty.params.map((p) => p.data));
    });
    await t.step(`${workers} worker(s), aborted by a timer`, async () => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 100);
      const result = await run({ workers, shards: 2, steps: 1_000_000, signal: controller.signal });
      clearTimeout(timer);
      assert.equal(result.status, "aborted");
      assert.ok(result.loss.length < 20_000);
      assert.equal(runningWorkers(), 0);
    });
  }
});
