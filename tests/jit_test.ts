// jit against the eager path, bit for bit: the MLP loss, every primitive's finite-difference
// case, parameter trees; the plan cache by shape; and the error on value-dependent control flow.

import assert from "node:assert/strict";
import {
  add,
  createRng,
  div,
  grad,
  initMLP,
  jit,
  matmul,
  Matrix,
  MAX_PLANS,
  mseLoss,
  mul,
  neg,
  sub,
  sum,
  tanh,
  type Tensor,
  type Value,
  valueAndGrad,
  vjp,
} from "../mod.ts";
import { withScratch } from "../lib/_arena.ts";
import { profileJit } from "../lib/autograd/jit.ts";
import { type Case, random, type Shape, shapeOfValue } from "./_fd.ts";
import { tanhGrad } from "../lib/autograd/ops.ts";
import { setKernelBackend } from "../lib/_kernels.ts";
import { train } from "../lib/train/train.ts";
import { importLoss, type LossFn, setShardJit } from "../lib/train/_shard.ts";
import { allocateBuffers } from "../lib/train/_protocol.ts";
import { copyIn, layoutOf } from "../lib/train/_params.ts";
import { openStepRunner } from "../lib/train/_pool.ts";

/** Every number of a tree of plain values, in order, as exact bit patterns. */
function bits(tree: unknown): string[] {
  const out: string[] = [];
  const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);
  const visit = (x: unknown): void => {
    if (typeof x === "number") (f64[0] = x, out.push(u64[0].toString(16)));
    else if (x instanceof Matrix) {
      out.push(`${x.rows}x${x.cols}`);
      x.data.forEach((v) => visit(v));
    } else if (Array.isArray(x)) (out.push("["), x.forEach(visit), out.push("]"));
    else if (x !== null && typeof x === "object") {
      for (const [k, v] of Object.entries(x)) (out.push(k), visit(v));
    } else out.push(String(x));
  };
  visit(tree);
  return out;
}

function seedBatch(sizes: number[], batch: number, seed = 0) {
  const rng = createRng(seed);
  const params = initMLP(sizes, rng);
  const X = Matrix.zeros(batch, sizes[0]), Y = Matrix.zeros(batch, sizes.at(-1)!);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  for (let i = 0; i < batch; i++) Y.data[Y.cols * i + rng.randint(Y.cols)] = 1;
  return { params, X, Y };
}

Deno.test("jit(valueAndGrad(mseLoss)) gives the eager bits, in and out of scratch memory", () => {
  const { params, X, Y } = seedBatch([8, 25, 10, 2], 100);
  const eager = valueAndGrad(mseLoss), jitted = jit(valueAndGrad(mseLoss));
  const want = bits(eager(params, X, Y));
  assert.deepEqual(bits(jitted(params, X, Y)), want); // the first call: traced, then run
  assert.deepEqual(bits(jitted(params, X, Y)), want); // a cached plan
  assert.deepEqual(withScratch(() => bits(jitted(params, X, Y))), want);
  assert.deepEqual(withScratch(() => bits(jitted(params, X, Y))), want);
  assert.equal(jitted.cache.misses, 1);
  assert.equal(jitted.cache.hits, 3);
});

Deno.test("a jitted SGD loop follows the eager loop bit for bit over 50 steps", () => {
  const a = seedBatch([8, 25, 10, 2], 100), b = seedBatch([8, 25, 10, 2], 100);
  const eager = valueAndGrad(mseLoss), jitted = jit(valueAndGrad(mseLoss));
  const step = (vg: typeof eager, p: Matrix[], X: Matrix, Y: Matrix) =>
    withScratch(() => {
      const [loss, g] = vg(p, X, Y);
      p.forEach((m, i) => m.data.forEach((v, j) => m.data[j] = v - 0.01 * g[i].data[j]));
      return loss;
    });
  for (let s = 0; s < 50; s++) {
    assert.equal(step(jitted, b.params, b.X, b.Y), step(eager, a.params, a.X, a.Y));
  }
  assert.deepEqual(bits(b.params), bits(a.params));
});

Deno.test("a new shape compiles a new plan; the same shapes hit the cache", () => {
  const jitted = jit(valueAndGrad(mseLoss));
  const eager = valueAndGrad(mseLoss);
  const small = seedBatch([8, 25, 10, 2], 37, 1), big = seedBatch([8, 25, 10, 2], 100, 2);
  const wide = seedBatch([8, 30, 2], 100, 3);
  for (const { params, X, Y } of [small, big, small, wide, big, wide, small]) {
    assert.deepEqual(bits(jitted(params, X, Y)), bits(eager(params, X, Y)));
  }
  assert.deepEqual([jitted.cache.misses, jitted.cache.hits, jitted.cache.plans], [3, 4, 3]);
  // A different structure (one layer fewer) is a miss too.
  jitted(wide.params.slice(0, 2), wide.X, Matrix.zeros(100, 30));
  assert.equal(jitted.cache.misses, 4);
});

Deno.test("number arguments stay inputs of the plan; closed-over values are baked", () => {
  const c = Matrix.from([[1, 2]]);
  let scale = 3;
  const f = jit((x: Tensor, s: Tensor) => add(mul(x, s), mul(c, scale)));
  const x = Matrix.from([[10, 20]]);
  assert.deepEqual((f(x, 2) as Matrix).toArray(), [[23, 46]]);
  assert.deepEqual((f(x, 0.5) as Matrix).toArray(), [[8, 16]]);
  scale = 100; // baked at the first trace, as the matrix c is
  c.data[0] = 1000;
  assert.deepEqual((f(x, 1) as Matrix).toArray(), [[13, 26]]);
  assert.deepEqual([f.cache.hits, f.cache.misses], [2, 1]);
  // A scalar function of a scalar: a number in, a number out.
  const g = jit(grad((t: Tensor) => mul(t, mul(t, t))));
  assert.equal(g(2), 12);
  assert.equal(g(3), 27);
});

Deno.test("parameter trees: objects and nested arrays of matrices and numbers", () => {
  const rng = createRng(5);
  const params = {
    layer: { W: random([3, 4], rng) as Matrix, b: random([3, 1], rng) as Matrix },
    extra: [random([3, 5], rng) as Matrix, 0.7],
  };
  const X = random([4, 5], rng) as Matrix;
  const loss = (p: typeof params, x: Tensor) => {
    const h = tanh(add(matmul(p.layer.W, x), p.layer.b));
    return sum(mul(mul(h, p.extra[0]), p.extra[1]));
  };
  const eager = valueAndGrad(loss), jitted = jit(valueAndGrad(loss));
  for (let i = 0; i < 3; i++) assert.deepEqual(bits(jitted(params, X)), bits(eager(params, X)));
  const [, g] = jitted(params, X);
  assert.deepEqual(Object.keys(g), ["layer", "extra"]);
  assert.equal(typeof g.extra[1], "number");
  // Reordered keys are another structure.
  jitted({ extra: params.extra, layer: params.layer } as typeof params, X);
  assert.equal(jitted.cache.misses, 2);
});

/** Every exported `CASES` array of tests/fd_cases: one or more cases per primitive. */
async function loadCases(): Promise<Case[]> {
  const dir = new URL("./fd_cases/", import.meta.url);
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".ts")) names.push(e.name);
  const modules = await Promise.all(names.sort().map((n) => import(new URL(n, dir).href)));
  return modules.flatMap((m) => m.CASES as Case[]);
}

Deno.test("jit gives the eager bits for every primitive's case: value, VJP and second order", async (t) => {
  for (const [n, c] of (await loadCases()).entries()) {
    await t.step(c.name, () => {
      const rng = createRng(2000 + n);
      const args = c.inputs ? c.inputs(rng) : c.shapes.map((s) => random(s, rng, c.positive));
      const w = random(shapeOfValue(c.f(...args) as Value), rng);
      // The value and every argument's cotangent, and the gradient of <w, f> differentiated
      // again (reverse over reverse), each as one jitted program.
      const first = (...a: Tensor[]) => {
        const [value, pull] = vjp(c.f, ...a);
        return [value, pull(w)];
      };
      const second = (...a: Tensor[]) => {
        const [, pull] = vjp((...b: Tensor[]) => {
          const [, inner] = vjp((...d: Tensor[]) => sum(mul(w, c.f(...d))), ...b);
          return inner(1) as Tensor[];
        }, ...a);
        return pull(args.map((x) => x) as never);
      };
      const fns = c.firstOrderOnly ? [first] : [first, second];
      for (const f of fns) {
        const jitted = jit(f);
        const want = bits(f(...args));
        assert.deepEqual(bits(jitted(...args)), want);
        assert.deepEqual(withScratch(() => bits(jitted(...args))), want);
        assert.equal(jitted.cache.hits, 1);
      }
    });
  }
});

Deno.test("a traced value used as a JS number or boolean is a TypeError naming jit", () => {
  const abs = jit((x: Tensor) => (x as unknown as number) > 0 ? x : neg(x));
  assert.throws(() => abs(Matrix.from([[1, -2]])), {
    name: "TypeError",
    message: /^jit: .*control flow/,
  });
  assert.throws(() => jit((x: Tensor) => (x as unknown as number) * 2)(3), /^TypeError: jit:/);
  assert.throws(() => jit((x: Tensor) => Math.max(x as unknown as number, 0))(3), /jit/);
  // Under grad inside jit the box is grad's, wrapping jit's: the message still names jit.
  const branchy = (x: Tensor) => (x as unknown as number) < 1 ? x : 0;
  assert.throws(() => jit(grad(branchy))(3), /^TypeError: jit:/);
  // Without jit, grad refuses too, rather than comparing a string.
  assert.throws(() => grad(branchy)(3), {
    name: "TypeError",
    message: /^grad: .*lose its derivative/,
  });
  // Strings still work.
  assert.match(String(jit((x: Tensor) => (assert.match(`${x}`, /^Traced/), x))(1)), /^1$/);
});

Deno.test("grad of a jitted function traces through it; jit inside jit is one plan", () => {
  const f = (x: Tensor) => sum(tanh(mul(x, x)));
  const x = Matrix.from([[0.5, -1, 2]]);
  const jf = jit(f);
  assert.deepEqual(bits(grad(jf)(x)), bits(grad(f)(x)));
  assert.equal(jf.cache.misses, 0); // traced arguments run f as it is
  const outer = jit((y: Tensor) => add(jf(y), 1));
  assert.deepEqual(bits(outer(x)), bits(add(f(x), 1)));
  assert.deepEqual([outer.cache.misses, jf.cache.misses], [1, 0]);
});

Deno.test("a closure over a value traced outside jit is a clear TypeError", () => {
  const f = (y: Tensor) => jit((x: Tensor) => mul(x, y))(2);
  assert.throws(() => grad(f)(3), /jit: mul received a value traced by a transform outside jit/);
});

Deno.test("arguments that are not trees are rejected naming their path", () => {
  assert.throws(
    () => jit((_x: Tensor, _s: unknown) => 1)(1, "a"),
    /jit: arguments\[1\] is a string/,
  );
});

Deno.test("profileJit times every step of a plan", () => {
  const { params, X, Y } = seedBatch([8, 25, 10, 2], 100);
  const steps = profileJit(jit(valueAndGrad(mseLoss)), [params, X, Y], 2);
  assert.ok(steps.length > 20 && steps.every((s) => s.us >= 0));
  assert.match(steps[0].label, /^matmul .* 25x8 100x8$/);
});

// The trainer's shard runner jits the step by default.

function synthetic(samples: number, seed = 1) {
  const rng = createRng(seed);
  const X = Matrix.zeros(samples, 8), Y = Matrix.zeros(samples, 2);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  for (let i = 0; i < samples; i++) Y.data[2 * i + (X.data[8 * i] > 0 ? 1 : 0)] = 1;
  return { X, Y };
}

async function shardRunner(loss: LossFn, shards = 3) {
  const data = synthetic(300);
  const { layout, leaves } = layoutOf(initMLP([8, 25, 10, 2], createRng(0)));
  const buffers = allocateBuffers(layout, data, 100, shards, 1);
  copyIn(leaves, buffers.params);
  buffers.indices.set(Int32Array.from({ length: 100 }, (_, i) => (7 * i) % 300));
  const runner = await openStepRunner(buffers, loss, { lossUrl: "unused:" });
  try {
    await runner.step(1);
    await runner.step(2);
    return {
      reason: runner.local.eagerReason,
      grad: buffers.slabs.slice(0, buffers.params.length),
    };
  } finally {
    await runner.close();
  }
}

Deno.test("train() runs jitted by default, with the eager path's bits (1 and 2 threads)", async () => {
  const data = synthetic(500);
  const run = (threads: number) => {
    const params = initMLP([8, 25, 10, 2], createRng(0));
    return train({ params, ...data, steps: 40, logEvery: 10, threads, shards: 3 });
  };
  const jitted = await run(1);
  const previous = setShardJit(false);
  let eager;
  try {
    eager = await run(1);
  } finally {
    setShardJit(previous);
  }
  assert.deepEqual(jitted.loss, eager.loss);
  assert.deepEqual(bits(jitted.params), bits(eager.params));
  const two = await run(2);
  assert.deepEqual(bits(two.params), bits(eager.params));
  assert.equal((await shardRunner(mseLoss)).reason, undefined);
});

Deno.test("a loss that cannot be jitted falls back to eager with the reason recorded", async () => {
  const branchy: LossFn = (params, X, Y) => {
    const l = mseLoss(params, X, Y);
    return (l as unknown as number) > 100 ? mul(0, l) : l; // a traced value as a number
  };
  const eager = await (async () => {
    const previous = setShardJit(false);
    try {
      return await shardRunner(mseLoss);
    } finally {
      setShardJit(previous);
    }
  })();
  assert.equal(eager.reason, "jit is off");
  const plain = await shardRunner(mseLoss);
  assert.deepEqual(plain.grad, eager.grad);
  // Eagerly, `l > 100` throws too (it would lose the derivative): the error propagates.
  await assert.rejects(shardRunner(branchy), /^TypeError: grad: a traced value/);
  // A loss whose trace fails (as one branching on a traced value does under jit alone): the
  // runner keeps the reason and computes the step eagerly, with the same bits.
  let traced = 0;
  const onceOnly: LossFn = (params, X, Y) => {
    if (++traced === 1) throw new TypeError("jit: cannot trace this");
    return mseLoss(params, X, Y);
  };
  const fallback = await shardRunner(onceOnly);
  assert.match(fallback.reason!, /^the loss cannot be jitted: TypeError: jit: cannot trace this/);
  assert.deepEqual(fallback.grad, eager.grad);
});

Deno.test("a loss module exporting jit = false runs eagerly", async () => {
  const loss = await importLoss(new URL("./fixtures/user_loss.ts", import.meta.url).href);
  assert.equal((await shardRunner(loss)).reason, "the loss module exports jit = false");
});

Deno.test("direct kernel calls give the eager bits for every binary op and broadcast, on both backends", () => {
  const rng = createRng(11);
  const ops = { add, sub, mul, div, tanhGrad };
  const shapes: Shape[][] = [
    [[8, 8], [8, 8]],
    [[8, 8], [8, 1]],
    [[8, 8], [1, 8]],
    [[8, 8], [1, 1]],
    [[8, 1], [8, 8]],
    [[1, 8], [8, 8]],
    [[1, 1], [8, 8]],
    [[8, 8], "scalar"],
    ["scalar", [8, 8]],
  ];
  for (const backend of ["wasm", "ts"] as const) {
    const previous = setKernelBackend(backend);
    try {
      for (const [name, op] of Object.entries(ops)) {
        for (const pair of shapes) {
          const args = pair.map((s) => random(s, rng, true));
          const w = random([8, 8], rng);
          const f = (a: Tensor, b: Tensor) => {
            const [value, pull] = vjp((x: Tensor, y: Tensor) => tanh(op(x, y)), a, b);
            return [value, pull(w)];
          };
          const want = withScratch(() => bits(f(args[0], args[1])));
          const jitted = jit(f);
          for (let i = 0; i < 2; i++) {
            const got = withScratch(() => bits(jitted(args[0], args[1])));
            assert.deepEqual(got, want, `${name} of ${pair.join(" and ")} on ${backend}`);
          }
        }
      }
    } finally {
      setKernelBackend(previous);
    }
  }
});

Deno.test("a constant result (a zero gradient) is a fresh matrix each call", () => {
  const f = jit(grad((_x: Tensor, y: Tensor) => sum(y), 0)); // x does not reach the result
  const x = Matrix.from([[1, 2]]), y = Matrix.from([[3]]);
  const g = withScratch(() => f(x, y)) as Matrix;
  g.data[0] = 99;
  assert.deepEqual((withScratch(() => f(x, y)) as Matrix).toArray(), [[0, 0]]);
  assert.deepEqual((f(x, y) as Matrix).toArray(), [[0, 0]]);
});

Deno.test("a jitted function keeps at most MAX_PLANS plans, dropping the oldest", () => {
  const f = jit((x: Tensor) => sum(tanh(x)));
  for (let n = 1; n <= MAX_PLANS + 1; n++) f(Matrix.zeros(1, n));
  assert.deepEqual([f.cache.misses, f.cache.plans], [MAX_PLANS + 1, MAX_PLANS]);
  f(Matrix.zeros(1, MAX_PLANS + 1)); // the newest is kept
  f(Matrix.zeros(1, 1)); // the oldest was dropped
  assert.deepEqual([f.cache.hits, f.cache.misses], [1, MAX_PLANS + 2]);
});
