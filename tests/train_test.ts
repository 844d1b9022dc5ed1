// Tests of the trainer's protocol on one thread: batches, SGD, logging, divergence, options.

import assert from "node:assert/strict";
import {
  add,
  createRng,
  grad,
  initMLP,
  matmul,
  Matrix,
  mean,
  mseLoss,
  square,
  sub,
  train,
  type TrainOptions,
  transpose,
} from "../mod.ts";
import { measureStepWork, planThreads } from "../lib/train/_plan.ts";
import { loadLabeledCsv, oneHot } from "../lib/data/csv.ts";
import { needsPulsarData, pulsarCsvPath } from "./_helpers.ts";

const rng = createRng(11);
const X = Matrix.zeros(300, 8);
for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
const Y = oneHot(Array.from({ length: 300 }, (_, i) => X.data[i * 8] > 0 ? 1 : 0), 2);
const net = () => initMLP([8, 25, 10, 2], createRng(0));
const run = (options: Partial<TrainOptions> = {}) =>
  train({ params: net(), X, Y, steps: 130, workers: 1, ...options });

Deno.test("train follows the SGD protocol of the experiment bit for bit", async () => {
  const lr = 0.05, batch = 40, steps = 130, logEvery = 50, seed = 4;
  // The protocol written out: one RNG draws each batch with replacement, the autograd takes
  // the gradient, p -= lr·g, and the log holds that batch's loss after the update.
  const params = net();
  const draws = createRng(seed);
  const Xb = Matrix.zeros(batch, 8), Yb = Matrix.zeros(batch, 2);
  const want: { step: number; loss: number }[] = [];
  for (let step = 1; step <= steps; step++) {
    for (let j = 0; j < batch; j++) {
      const row = draws.randint(X.rows);
      Xb.data.set(X.data.subarray(row * 8, row * 8 + 8), j * 8);
      Yb.data.set(Y.data.subarray(row * 2, row * 2 + 2), j * 2);
    }
    const g = grad(mseLoss)(params, Xb, Yb);
    params.forEach((p, i) => p.data.forEach((v, k) => p.data[k] = v - lr * g[i].data[k]));
    if (step % logEvery === 0 || step === steps) {
      const value = mseLoss(params, Xb, Yb);
      want.push({ step, loss: typeof value === "number" ? value : (value as Matrix).data[0] });
    }
  }
  const result = await run({ lr, batch, steps, logEvery, seed });
  assert.deepEqual(result.loss, want);
  assert.deepEqual(result.loss.map((e) => e.step), [50, 100, 130]);
  assert.deepEqual(result.params.map((p) => p.data), params.map((p) => p.data));
  assert.equal(result.status, "ok");
  assert.equal(result.workers, 1);
  assert.ok(result.seconds > 0);
});

Deno.test("onLog sees every log entry as it is made", async () => {
  const seen: number[] = [];
  const result = await run({ logEvery: 10, onLog: (e) => seen.push(e.step) });
  assert.deepEqual(seen, result.loss.map((e) => e.step));
  assert.equal(seen.length, 13);
});

Deno.test("the same seed gives the same run and another seed a different one", async () => {
  const a = await run({ seed: 3 }), b = await run({ seed: 3 }), c = await run({ seed: 4 });
  assert.deepEqual(a.loss, b.loss);
  assert.deepEqual(a.params.map((p) => p.data), b.params.map((p) => p.data));
  assert.notDeepEqual(a.loss, c.loss);
});

Deno.test("a non-finite loss stops training with status diverged", async (t) => {
  await t.step("a NaN feature: diverged at step 1, parameters untouched", async () => {
    const bad = X.clone();
    bad.data.fill(Number.NaN);
    const params = net();
    const before = params.map((p) => p.clone().data);
    const result = await train({ params, X: bad, Y, workers: 1 });
    assert.equal(result.status, "diverged");
    assert.equal(result.divergedAt, 1);
    assert.deepEqual(result.loss, []);
    assert.deepEqual(params.map((p) => p.data), before);
  });
  await t.step("a NaN row: diverged at the first batch that draws it", async () => {
    // The row that the seed-0 batches reach last, so several good steps come first.
    const firstDraw = new Map<number, number>();
    const draws = createRng(0);
    for (let step = 1; firstDraw.size < X.rows; step++) {
      for (let j = 0; j < 100; j++) {
        const row = draws.randint(X.rows);
        if (!firstDraw.has(row)) firstDraw.set(row, step);
      }
    }
    const [row, first] = [...firstDraw].reduce((a, b) => b[1] > a[1] ? b : a);
    assert.ok(first > 2);
    const bad = X.clone();
    bad.data[row * 8 + 3] = Number.NaN;
    const params = net();
    const result = await train({ params, X: bad, Y, steps: first + 10, logEvery: 1, workers: 1 });
    assert.equal(result.status, "diverged");
    assert.equal(result.divergedAt, first);
    assert.equal(result.loss.length, first - 1);
    const clean = await run({ steps: first - 1 });
    assert.deepEqual(params.map((p) => p.data), clean.params.map((p) => p.data));
  });
});

Deno.test("zero steps and an already aborted signal leave the parameters alone", async () => {
  const zero = await run({ steps: 0 });
  assert.deepEqual(zero.loss, []);
  assert.deepEqual(zero.params.map((p) => p.data), net().map((p) => p.data));
  const aborted = await run({ signal: AbortSignal.abort() });
  assert.equal(aborted.status, "aborted");
  assert.deepEqual(aborted.params.map((p) => p.data), net().map((p) => p.data));
});

Deno.test("a loss module can be given as a file path", async () => {
  const path = new URL("./fixtures/user_loss.ts", import.meta.url).pathname;
  const custom = await run({ loss: path });
  assert.deepEqual(custom.loss, (await run()).loss);
});

Deno.test("train rejects bad options with errors that name them", async () => {
  const cases: [Partial<TrainOptions>, ErrorConstructor, RegExp][] = [
    [{ Y: Matrix.zeros(299, 2) }, TypeError, /X has 300 rows but Y has 299/],
    [{ params: [] }, TypeError, /params must hold at least one matrix or number/],
    [{ params: [Matrix.zeros(2, 2), "w" as never] }, TypeError, /params\[1\] is a string \("w"\)/],
    [{ batch: 0 }, RangeError, /batch must be an integer of at least 1, got 0/],
    [{ steps: 1.5 }, RangeError, /steps must be an integer of at least 0, got 1.5/],
    [{ logEvery: 0 }, RangeError, /logEvery must be an integer of at least 1, got 0/],
    [{ lr: Number.NaN }, RangeError, /lr must be a finite number greater than 0, got NaN/],
    [{ lr: 0 }, RangeError, /lr must be a finite number greater than 0, got 0/],
    [{ lr: -0.1 }, RangeError, /lr must be a finite number greater than 0, got -0.1/],
    [{ workers: 0 }, RangeError, /workers must be "auto" or an integer from 1 to 256, got 0/],
    [
      { threads: 0, workers: undefined },
      RangeError,
      /threads must be "auto" or an integer from 1 to 256, got 0/,
    ],
    [{ threads: 2, workers: 1 }, RangeError, /threads \(2\) and its old name workers \(1\)/],
    [{ stepTimeout: 0 }, RangeError, /stepTimeout must be a number of milliseconds/],
    [{ shards: 101 }, RangeError, /shards must be an integer from 1 to the batch \(100\), got 101/],
    [{ seed: 0.5 }, RangeError, /seed must be a finite integer/],
    [{ loss: "no_such_loss.ts" }, Error, /cannot load the loss module file:.*no_such_loss\.ts/],
  ];
  for (const [options, type, message] of cases) {
    await assert.rejects(run(options), (e) => e instanceof type && message.test(e.message));
  }
});

Deno.test("the thread plan counts the work of the traced step and picks one thread for the seed, the cores for a big step", () => {
  const work = (sizes: number[], batch: number) =>
    measureStepWork(mseLoss, initMLP(sizes, createRng(0)), { X: Matrix.zeros(8, 8), Y }, batch);
  // Multiply-adds of the seed step (forward, weight gradients, hidden-layer gradients:
  // 100 · (25·8·2 + 10·25·3 + 2·10·3) = 121,000) plus its element-wise operations.
  const seedWork = work([8, 25, 10, 2], 100);
  assert.ok(seedWork > 121_000 && seedWork < 160_000, `${seedWork}`);
  const seed = planThreads(seedWork, 100, "auto");
  assert.deepEqual([seed.threads, seed.shards], [1, 1]);
  assert.match(seed.reason, /^1\d\d(\.\d)?k operations per step: 1 thread/);
  const largeWork = work([8, 256, 256, 2], 1000);
  assert.ok(largeWork > 202_000_000 && largeWork < 210_000_000, `${largeWork}`);
  const large = planThreads(largeWork, 1000, "auto");
  const cores = navigator.hardwareConcurrency;
  assert.deepEqual([large.threads, large.shards], [Math.min(cores, 6), 6]);
  assert.match(large.reason, /^20\d\.\dM operations per step/);
  // An explicit count is kept, up to one thread per shard: a thread without one would only
  // wait at every step, so the unsplit seed step stays on one thread and says why.
  assert.deepEqual(planThreads(seedWork, 100, 3, 12).threads, 3);
  const small = planThreads(seedWork, 100, 3);
  assert.equal(small.threads, 1);
  assert.match(small.reason, /^3 requested, 1 used: a step of 1\d\d(\.\d)?k operations is 1 shard/);
});

Deno.test("the thread plan measures any loss, not an assumed MLP: work grows with what the loss computes", () => {
  // A linear model as a { W, b } tree: one product of batch × 8 × 2 forward and one for W's
  // gradient (X is data, so no input gradient), plus element-wise work.
  const linear = (p: { W: Matrix; b: Matrix }, X: Matrix, Yt: Matrix) =>
    mean(square(sub(add(matmul(X, transpose(p.W)), transpose(p.b)), Yt)));
  const params = { W: Matrix.zeros(2, 8), b: Matrix.zeros(2, 1) };
  const w = measureStepWork(linear as never, params, { X, Y }, 100);
  assert.ok(w >= 100 * 8 * 2 * 2 && w < 100 * 8 * 2 * 2 + 100 * 2 * 20, `${w}`);
  // Exact linear extrapolation: doubling the batch doubles the per-row part.
  const w2 = measureStepWork(linear as never, params, { X, Y }, 200);
  const w1 = measureStepWork(linear as never, params, { X, Y }, 1);
  assert.equal(w2 - w, (w - w1) * 100 / 99);
});

needsPulsarData.test("training lowers the loss on the pulsar data", async () => {
  const path = await pulsarCsvPath();
  const data = await loadLabeledCsv(path);
  const result = await train({
    params: initMLP([8, 25, 10, 2], createRng(0)),
    X: data.X,
    Y: oneHot(data.labels, 2),
  });
  assert.equal(result.loss.length, 20);
  assert.ok(result.loss[19].loss < 0.5 * result.loss[0].loss, JSON.stringify(result.loss));
});
