// train() with lib/optim's optimizers, schedules, clipping, epochs and validation: the update
// is applied once per step to the gradient summed in the fixed shard order, so every mode gives
// the same bits on 1, 2, 3 and 4 threads.

import assert from "node:assert/strict";
import {
  adam,
  adamw,
  chain,
  clipByGlobalNorm,
  cosineDecay,
  createRng,
  exponentialDecay,
  initMLP,
  joinSchedules,
  linearWarmup,
  Matrix,
  rmsprop,
  sgd,
  train,
  type TrainOptions,
} from "../mod.ts";
import { synthetic } from "./_train_data.ts";

const { X, Y } = synthetic(200);
const val = synthetic(60, 2);

type Case = Omit<TrainOptions, "params" | "X" | "Y">;

const warmupCosine = () =>
  joinSchedules(
    [
      linearWarmup({ init: 0, peak: 0.05, warmupSteps: 5 }),
      cosineDecay({ init: 0.05, decaySteps: 15 }),
    ],
    [5],
  );

/** One small config per optimizer, schedule, clipping and sampling mode. */
const CASES: Record<string, () => Case> = {
  "sgd (default)": () => ({ lr: 0.1 }),
  "sgd momentum": () => ({ optimizer: sgd({ lr: 0.05, momentum: 0.9 }) }),
  "sgd nesterov": () => ({ optimizer: sgd({ lr: 0.05, momentum: 0.9, nesterov: true }) }),
  "rmsprop": () => ({ optimizer: rmsprop({ lr: 0.01 }) }),
  "adam": () => ({ optimizer: adam({ lr: 0.01 }) }),
  "adamw": () => ({ optimizer: adamw({ lr: 0.01, weightDecay: 0.1 }) }),
  "clipped adam": () => ({ optimizer: chain(clipByGlobalNorm(0.05), adam({ lr: 0.01 })) }),
  "exponential decay": () => ({
    optimizer: sgd({ lr: exponentialDecay({ init: 0.2, decayRate: 0.5, transitionSteps: 10 }) }),
  }),
  "warm-up cosine": () => ({ optimizer: adam({ lr: warmupCosine() }) }),
  "epochs": () => ({
    optimizer: adam({ lr: 0.01 }),
    sampling: "epochs",
    epochs: 3,
    steps: undefined,
  }),
  // A large rate, so that patience runs out (at step 10) and the best (step 6) is restored.
  "validation, early stopping": () => ({
    optimizer: adam({ lr: 0.2 }),
    validation: { X: val.X, Y: val.Y, every: 2, patience: 2 },
  }),
};

async function run(c: Case, threads: number) {
  const params = initMLP([4, 8, 2], createRng(0));
  const result = await train({
    params,
    X,
    Y,
    batch: 32,
    steps: 20,
    shards: 4,
    logEvery: 5,
    threads,
    ...c,
  });
  assert.equal(result.status, "ok");
  assert.equal(result.threads, threads);
  return { bits: params.flatMap((m) => [...m.data]), result };
}

for (const [name, make] of Object.entries(CASES)) {
  Deno.test(`${name}: the same bits on 1, 2, 3 and 4 threads`, async () => {
    const one = await run(make(), 1);
    for (const threads of [2, 3, 4]) {
      const many = await run(make(), threads);
      assert.deepEqual(many.bits, one.bits, `${threads} threads`);
      assert.deepEqual(many.result.loss, one.result.loss, `${threads} threads: the log`);
      assert.deepEqual(many.result.best, one.result.best);
      assert.equal(many.result.stoppedEarly, one.result.stoppedEarly);
    }
    if (name.includes("early")) assert.equal(one.result.stoppedEarly, true);
    // The optimizer did something: the parameters moved.
    const init = initMLP([4, 8, 2], createRng(0)).flatMap((m) => [...m.data]);
    assert.notDeepEqual(one.bits, init);
  });
}

Deno.test("the default optimizer is sgd({ lr }) bit for bit", async () => {
  const a = initMLP([4, 8, 2], createRng(0)), b = initMLP([4, 8, 2], createRng(0));
  const common = { X, Y, batch: 32, steps: 10, threads: 1 } as const;
  await train({ params: a, ...common, lr: 0.1 });
  await train({ params: b, ...common, optimizer: sgd({ lr: 0.1 }) });
  assert.deepEqual(a.map((m) => [...m.data]), b.map((m) => [...m.data]));
});

Deno.test("epochs: each epoch visits floor(rows/batch) whole batches of distinct rows", async () => {
  // A loss module that records nothing cannot see rows; the sampler is checked directly.
  const { createSampler } = await import("../lib/train/_sampling.ts");
  const sampler = createSampler("epochs", 10, 3, createRng(4));
  const indices = new Int32Array(3);
  for (let epoch = 0; epoch < 3; epoch++) {
    const seen: number[] = [];
    for (let s = 0; s < 3; s++) {
      sampler.fill(indices);
      seen.push(...indices);
    }
    assert.equal(new Set(seen).size, 9, "9 distinct rows an epoch, 1 left out");
    assert.ok(seen.every((i) => i >= 0 && i < 10));
  }
  const r = await train({
    params: initMLP([4, 8, 2], createRng(0)),
    X,
    Y,
    batch: 64,
    sampling: "epochs",
    epochs: 2,
    threads: 1,
  });
  assert.equal(r.stepsDone, 6); // 2 epochs × floor(200 / 64)
  assert.deepEqual(r.loss.map((e) => e.step), [6]);
});

Deno.test("epochs: bad combinations are named", async () => {
  const params = initMLP([4, 8, 2], createRng(0));
  await assert.rejects(
    train({ params, X, Y, sampling: "epochs", steps: 5 }),
    /with sampling "epochs" give epochs, not steps/,
  );
  await assert.rejects(train({ params, X, Y, epochs: 2 }), /epochs needs sampling: "epochs"/);
  await assert.rejects(
    train({ params, X, Y, sampling: "epochs", batch: 201 }),
    /batch \(201\) of at most the rows \(200\)/,
  );
  await assert.rejects(
    train({ params, X, Y, sampling: "bootstrap" as "epochs" }),
    /sampling must be "replacement" or "epochs"/,
  );
  await assert.rejects(
    train({ params, X, Y, lr: 0.1, optimizer: adam({ lr: 0.1 }) }),
    /with an optimizer, give it to the optimizer/,
  );
  await assert.rejects(
    train({ params, X, Y, optimizer: { stages: [] } as never }),
    /optimizer must be an optimizer from lib\/optim/,
  );
});

Deno.test("validation: early stopping restores the best parameters and names their step", async () => {
  const params = initMLP([4, 8, 2], createRng(0));
  const seen: { step: number }[] = [];
  // A large lr makes the validation loss go up again soon, so patience runs out.
  const result = await train({
    params,
    X,
    Y,
    optimizer: sgd({ lr: 3 }),
    batch: 16,
    steps: 400,
    logEvery: 5,
    threads: 1,
    validation: { X: val.X, Y: val.Y, every: 5, patience: 3 },
    onLog: (e) => {
      if (e.validation !== undefined) seen.push({ step: e.step });
    },
  });
  assert.equal(result.status, "ok");
  assert.equal(result.stoppedEarly, true);
  assert.ok(result.stepsDone < 400);
  const logged = result.loss.filter((e) => e.validation !== undefined);
  assert.equal(logged.length, seen.length);
  const lowest = logged.reduce((a, b) => (b.validation! < a.validation! ? b : a));
  assert.deepEqual(result.best, { step: lowest.step, validationLoss: lowest.validation });
  // Stopped after exactly `patience` evaluations without a new best.
  assert.equal(logged.at(-1)!.step, lowest.step + 3 * 5);
  // The returned parameters are those of the best step: rerun to that step without validation.
  const again = initMLP([4, 8, 2], createRng(0));
  await train({
    params: again,
    X,
    Y,
    optimizer: sgd({ lr: 3 }),
    batch: 16,
    steps: lowest.step,
    threads: 1,
  });
  assert.deepEqual(params.map((m) => [...m.data]), again.map((m) => [...m.data]));
});

Deno.test("validation: the log carries the validation loss at every `every` and the last step", async () => {
  const result = await train({
    params: initMLP([4, 8, 2], createRng(0)),
    X,
    Y,
    steps: 12,
    logEvery: 4,
    threads: 1,
    validation: { X: val.X, Y: val.Y, every: 5 },
  });
  assert.deepEqual(
    result.loss.map((e) => [e.step, e.validation !== undefined]),
    [[4, false], [5, true], [8, false], [10, true], [12, true]],
  );
  assert.equal(result.stoppedEarly, false);
  await assert.rejects(
    train({
      params: initMLP([4, 8, 2], createRng(0)),
      X,
      Y,
      validation: { X: Matrix.zeros(3, 5), Y: Matrix.zeros(3, 2) },
    }),
    /validation data is 5 features × 2 outputs but the training data is 4 × 2/,
  );
});
