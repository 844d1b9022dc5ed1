// Checkpoints: N steps, a resume, then M more give the bits of N + M steps at once.

import assert from "node:assert/strict";
import { join } from "node:path";
import { adam, createRng, initMLP, Matrix, sgd, train, type TrainOptions } from "../mod.ts";
import { synthetic } from "./_train_data.ts";

const { X, Y } = synthetic(200);
const val = synthetic(60, 2);
const bitsOf = (params: Matrix[]) => params.flatMap((m) => [...m.data]);

type Case = Omit<TrainOptions, "params" | "X" | "Y">;

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "denograd-checkpoint-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `total` steps at once, and `first` steps then a resume to `total`; both results. */
async function splitRun(
  make: () => Case,
  lengths: { first: Case; total: Case },
  threads: { first: number; second: number; whole: number },
) {
  return await withDir(async (dir) => {
    const path = join(dir, "run.ckpt.json");
    const common = { X, Y, batch: 32, shards: 4, logEvery: 10 };
    const whole = initMLP([4, 8, 2], createRng(0));
    const wholeResult = await train({
      params: whole,
      ...common,
      ...make(),
      ...lengths.total,
      threads: threads.whole,
    });
    const a = initMLP([4, 8, 2], createRng(0));
    await train({
      params: a,
      ...common,
      ...make(),
      ...lengths.first,
      threads: threads.first,
      checkpoint: { path, every: 7 },
    });
    // Fresh parameters: the checkpoint's replace them.
    const b = initMLP([4, 8, 2], createRng(99));
    const resumed = await train({
      params: b,
      ...common,
      ...make(),
      ...lengths.total,
      threads: threads.second,
      resume: path,
    });
    const leftovers = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(leftovers, ["run.ckpt.json"], "no temporary files left");
    return { whole: bitsOf(whole), wholeResult, resumed: bitsOf(b), resumedResult: resumed };
  });
}

const STEPS = { first: { steps: 100 }, total: { steps: 200 } };

for (
  const [name, make, lengths] of [
    ["sgd", () => ({ lr: 0.05 }), STEPS],
    ["adam", () => ({ optimizer: adam({ lr: 0.01 }) }), STEPS],
    ["momentum", () => ({ optimizer: sgd({ lr: 0.05, momentum: 0.9 }) }), STEPS],
    [
      "epochs with adam",
      () => ({ optimizer: adam({ lr: 0.01 }), sampling: "epochs" as const }),
      { first: { epochs: 5 }, total: { epochs: 11 } }, // a resume mid-order (6 steps an epoch)
    ],
    [
      "validation with adam",
      () => ({ optimizer: adam({ lr: 0.01 }), validation: { X: val.X, Y: val.Y, every: 15 } }),
      STEPS,
    ],
  ] as [string, () => Case, { first: Case; total: Case }][]
) {
  for (const threads of [1, 2]) {
    Deno.test(`${name}: 100 steps + resume + 100 is 200 steps, on ${threads} thread(s)`, async () => {
      const r = await splitRun(make, lengths, { first: threads, second: threads, whole: threads });
      assert.deepEqual(r.resumed, r.whole);
      assert.deepEqual(r.resumedResult.loss, r.wholeResult.loss);
      assert.deepEqual(r.resumedResult.best, r.wholeResult.best);
      assert.equal(r.resumedResult.stepsDone, r.wholeResult.stepsDone);
    });
  }
}

Deno.test("a run checkpointed on 2 threads resumes on 1 (and 3) with the same bits", async () => {
  const adam1 = () => ({ optimizer: adam({ lr: 0.01 }) });
  const r = await splitRun(adam1, STEPS, { first: 2, second: 1, whole: 3 });
  assert.deepEqual(r.resumed, r.whole);
  assert.deepEqual(r.resumedResult.loss, r.wholeResult.loss);
});

Deno.test("a checkpoint holds the step, parameters, optimizer state and RNG", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "c.json");
    await train({
      params: initMLP([4, 8, 2], createRng(0)),
      X,
      Y,
      optimizer: adam({ lr: 0.01 }),
      steps: 10,
      threads: 1,
      checkpoint: { path, every: 4 },
    });
    const json = JSON.parse(await Deno.readTextFile(path));
    assert.equal(json.format, "denograd-train-checkpoint");
    assert.equal(json.step, 10);
    assert.equal(json.optimizer.count, 10);
    assert.equal(json.optimizer.slots.length, 2);
    assert.equal(json.rng.words.length, 4);
  });
});

Deno.test("a resume that does not fit the run is named", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "c.json");
    const common = { X, Y, steps: 10, threads: 1 } as const;
    await train({
      params: initMLP([4, 8, 2], createRng(0)),
      ...common,
      optimizer: adam({ lr: 0.01 }),
      checkpoint: { path, every: 5 },
    });
    const fresh = () => initMLP([4, 8, 2], createRng(0));
    await assert.rejects(
      train({ params: fresh(), ...common, resume: path }),
      /optimizer state \(2 buffers\) does not belong to this optimizer \(0 buffers/,
    );
    await assert.rejects(
      train({ params: fresh(), ...common, batch: 50, optimizer: adam({ lr: 0.01 }), resume: path }),
      /the checkpoint has batch 100, this run 50/,
    );
    await assert.rejects(
      train({ params: initMLP([4, 9, 2], createRng(0)), ...common, resume: path }),
      /the checkpoint has parameters: 58, this run 65/,
    );
    await assert.rejects(
      train({ params: fresh(), ...common, steps: 5, optimizer: adam({ lr: 0.01 }), resume: path }),
      /at step 10, past this run's 5 steps/,
    );
    await Deno.writeTextFile(join(dir, "bad.json"), "{ nope");
    await assert.rejects(
      train({ params: fresh(), ...common, resume: join(dir, "bad.json") }),
      /is not a checkpoint/,
    );
  });
});

Deno.test("a resume on other training data of the same size is refused", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "c.json");
    const common = { steps: 10, threads: 1 } as const;
    await train({
      params: initMLP([4, 8, 2], createRng(0)),
      X,
      Y,
      ...common,
      checkpoint: { path, every: 5 },
    });
    const other = synthetic(200, 7);
    await assert.rejects(
      train({
        params: initMLP([4, 8, 2], createRng(0)),
        ...other,
        ...common,
        steps: 20,
        resume: path,
      }),
      /the checkpoint was made on other training data/,
    );
  });
});

Deno.test("a tree with a number leaf resumes with Adam to the bits of one run, on 2 threads", async () => {
  const LINEAR = new URL("./fixtures/linear_loss.ts", import.meta.url);
  const tree = () => ({
    W: initMLP([4, 2], createRng(5))[0],
    b: Matrix.from([[0.1], [-0.2]]),
    s: 0.5,
  });
  const flat = (p: { W: Matrix; b: Matrix; s: number }) => [...p.W.data, ...p.b.data, p.s];
  await withDir(async (dir) => {
    const path = join(dir, "t.json");
    const common = { X, Y, loss: LINEAR, batch: 32, shards: 4, threads: 2 } as const;
    const whole = await train({
      params: tree(),
      ...common,
      optimizer: adam({ lr: 0.01 }),
      steps: 40,
    });
    await train({
      params: tree(),
      ...common,
      optimizer: adam({ lr: 0.01 }),
      steps: 20,
      checkpoint: { path, every: 20 },
    });
    const resumed = await train({
      params: tree(),
      ...common,
      optimizer: adam({ lr: 0.01 }),
      steps: 40,
      resume: path,
    });
    assert.notEqual(whole.params.s, 0.5);
    assert.deepEqual(flat(resumed.params), flat(whole.params));
  });
});
