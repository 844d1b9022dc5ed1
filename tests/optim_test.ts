// Optimizers, schedules and clipping against scalar re-implementations of their documented formulas.

import assert from "node:assert/strict";
import {
  adam,
  adamw,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  constantSchedule,
  cosineDecay,
  exponentialDecay,
  joinSchedules,
  linearWarmup,
  Matrix,
  type Optimizer,
  rmsprop,
  type Schedule,
  sgd,
  type Tree,
} from "../mod.ts";

const STEPS = 6;
const N = 7; // a 2x3 matrix and a number

/** The gradient at step t: varied signs and magnitudes, depending on the parameters too. */
function gradientAt(t: number, p: number[]): number[] {
  return p.map((x, i) => Math.sin(1.3 * t + i) * (1 + i) + 0.5 * x);
}

function initial(): number[] {
  return Array.from({ length: N }, (_, i) => (i - 3) / 4 + 0.1);
}

function toTree(p: number[]): Tree {
  return { W: new Matrix(2, 3, Float64Array.from(p.slice(0, 6))), b: p[6] };
}

function fromTree(tree: Tree): number[] {
  const { W, b } = tree as { W: Matrix; b: number };
  return [...W.data, b];
}

/** Runs `opt` for STEPS steps in the pure form over a tree. */
function runPure(opt: Optimizer): number[] {
  let params = toTree(initial());
  let state = opt.init(params);
  for (let t = 0; t < STEPS; t++) {
    const g = toTree(gradientAt(t, fromTree(params)));
    let updates;
    [updates, state] = opt.update(g, state, params);
    params = applyUpdates(params, updates);
  }
  return fromTree(params);
}

/** Runs `opt` for STEPS steps in the flat, in-place form. */
function runFlat(opt: Optimizer): number[] {
  const params = Float64Array.from(initial());
  const grads = new Float64Array(N);
  const state = opt.initFlat(N);
  for (let t = 0; t < STEPS; t++) {
    grads.set(gradientAt(t, [...params]));
    opt.stepFlat(params, grads, state);
  }
  assert.equal(state.count, STEPS);
  return [...params];
}

/** A scalar reference: `step(p, g, t)` returns the new p for one element at step t (0-based). */
function runReference(
  makeStep: () => (p: number, g: number, t: number, i: number) => number,
  clip?: number,
): number[] {
  const p = initial();
  const steps = p.map(() => makeStep());
  for (let t = 0; t < STEPS; t++) {
    let g = gradientAt(t, p);
    if (clip !== undefined) {
      const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
      if (norm >= clip) g = g.map((x) => (x / norm) * clip);
    }
    for (let i = 0; i < N; i++) p[i] = steps[i](p[i], g[i], t, i);
  }
  return p;
}

function assertClose(actual: number[], expected: number[], rel = 1e-15) {
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.ok(
      Math.abs(a - e) <= rel * Math.abs(e),
      `element ${i}: ${a} vs reference ${e} (relative ${Math.abs(a - e) / Math.abs(e)})`,
    );
  });
}

// PyTorch's documented formulas, one element at a time.
const refSgd = (lr: Schedule, mu = 0, nesterov = false) => () => {
  let b = 0;
  return (p: number, g: number, t: number) => {
    if (mu === 0) return p - lr(t) * g;
    b = t === 0 ? g : mu * b + g;
    return p - lr(t) * (nesterov ? g + mu * b : b);
  };
};
const refRmsprop = (lr: Schedule, alpha: number, eps: number) => () => {
  let v = 0;
  return (p: number, g: number, t: number) => {
    v = alpha * v + (1 - alpha) * g ** 2;
    return p - (lr(t) * g) / (Math.sqrt(v) + eps);
  };
};
const refAdam = (lr: Schedule, b1: number, b2: number, eps: number, wd = 0) => () => {
  let m = 0, v = 0;
  return (p: number, g: number, t: number) => {
    const step = t + 1;
    p = p - lr(t) * wd * p; // AdamW's decoupled decay, before the Adam step
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g ** 2;
    const mHat = m / (1 - b1 ** step), vHat = v / (1 - b2 ** step);
    return p - (lr(t) * mHat) / (Math.sqrt(vHat) + eps);
  };
};

const fixed = (x: number): Schedule => () => x;
const decaying: Schedule = (t) => 0.05 * 0.9 ** t;

const cases: [string, Optimizer, () => (p: number, g: number, t: number) => number][] = [
  ["sgd", sgd({ lr: 0.1 }), refSgd(fixed(0.1))],
  ["sgd with momentum", sgd({ lr: 0.1, momentum: 0.9 }), refSgd(fixed(0.1), 0.9)],
  [
    "sgd with Nesterov momentum",
    sgd({ lr: 0.1, momentum: 0.8, nesterov: true }),
    refSgd(fixed(0.1), 0.8, true),
  ],
  ["rmsprop", rmsprop({ lr: 0.01 }), refRmsprop(fixed(0.01), 0.99, 1e-8)],
  [
    "rmsprop with alpha and eps",
    rmsprop({ lr: 0.03, alpha: 0.9, eps: 1e-3 }),
    refRmsprop(fixed(0.03), 0.9, 1e-3),
  ],
  ["adam", adam({ lr: 1e-3 }), refAdam(fixed(1e-3), 0.9, 0.999, 1e-8)],
  [
    "adam with betas, eps and a schedule",
    adam({ lr: decaying, beta1: 0.5, beta2: 0.9, eps: 1e-4 }),
    refAdam(decaying, 0.5, 0.9, 1e-4),
  ],
  ["adamw", adamw({ lr: 1e-2 }), refAdam(fixed(1e-2), 0.9, 0.999, 1e-8, 0.01)],
  [
    "adamw with strong decay",
    adamw({ lr: 0.1, weightDecay: 0.3 }),
    refAdam(fixed(0.1), 0.9, 0.999, 1e-8, 0.3),
  ],
];

for (const [name, opt, reference] of cases) {
  Deno.test(`${name} matches its documented formula over ${STEPS} steps to 1e-15, pure and flat`, () => {
    const expected = runReference(reference);
    const pure = runPure(opt), flat = runFlat(opt);
    assertClose(pure, expected);
    assertClose(flat, expected);
    assert.notDeepEqual(flat, initial());
  });
}

Deno.test("the pure and flat forms give identical bits for sgd, rmsprop and adam", () => {
  for (const [name, opt] of cases.filter(([n]) => !n.startsWith("adamw"))) {
    assert.deepEqual(runPure(opt), runFlat(opt), name);
  }
});

Deno.test("flat sgd without momentum is bit-identical to the trainer's `w[i] -= lr * g[i]`", () => {
  const lr = 0.01;
  const params = Float64Array.from({ length: 500 }, (_, i) => Math.sin(i) * 3.7);
  const expected = params.slice();
  const grads = new Float64Array(500);
  const opt = sgd({ lr }), state = opt.initFlat(500);
  for (let t = 0; t < 20; t++) {
    for (let i = 0; i < 500; i++) grads[i] = Math.cos(i * 0.37 + t) / 3;
    for (let i = 0; i < 500; i++) expected[i] -= lr * grads[i];
    opt.stepFlat(params, grads, state);
  }
  assert.deepEqual(params, expected);
});

Deno.test("clipping by global norm before adam matches the Optax formula to 1e-15", () => {
  for (const maxNorm of [0.5, 100]) { // clipped, then untouched
    const opt = chain(clipByGlobalNorm(maxNorm), adam({ lr: 0.01 }));
    const expected = runReference(refAdam(fixed(0.01), 0.9, 0.999, 1e-8), maxNorm);
    assertClose(runPure(opt), expected);
    assertClose(runFlat(opt), expected);
  }
});

Deno.test("clipByGlobalNorm rescales the whole tree to the maximum norm", () => {
  const opt = chain(clipByGlobalNorm(2), sgd({ lr: 1 }));
  const grads = { a: Matrix.from([[3, 0]]), b: 4 };
  const [updates] = opt.update(grads, opt.init(grads));
  assert.deepEqual(updates.a.toArray(), [[-1.2, 0]]);
  assert.equal(updates.b, -1.6);
  assert.deepEqual(grads.a.toArray(), [[3, 0]], "the pure form leaves its arguments alone");
});

Deno.test("the pure update leaves the state and parameters unchanged", () => {
  const opt = adam({ lr: 0.1 });
  const params = [Matrix.from([[1, 2]])];
  const state = opt.init(params);
  const [, next] = opt.update([Matrix.from([[1, -1]])], state, params);
  assert.equal(state.count, 0);
  assert.deepEqual(state.slots.map((s) => [...s]), [[0, 0], [0, 0]]);
  assert.equal(next.count, 1);
  assert.deepEqual(params[0].toArray(), [[1, 2]]);
});

Deno.test("schedules follow the Optax formulas", () => {
  assert.equal(constantSchedule(0.3)(12), 0.3);
  const exp = exponentialDecay({ init: 0.1, decayRate: 0.5, transitionSteps: 4 });
  assert.equal(exp(6), 0.1 * 0.5 ** 1.5);
  const stairs = exponentialDecay({
    init: 0.1,
    decayRate: 0.5,
    transitionSteps: 4,
    staircase: true,
  });
  assert.equal(stairs(7), 0.05);
  const cos = cosineDecay({ init: 2, decaySteps: 10, alpha: 0.1 });
  assert.equal(cos(3), 2 * (0.9 * 0.5 * (1 + Math.cos((Math.PI * 3) / 10)) + 0.1));
  assert.equal(cos(50), 2 * 0.1);
  const warm = linearWarmup({ init: 0.01, peak: 0.11, warmupSteps: 5 });
  assert.deepEqual([warm(0), warm(5), warm(9)], [0.01, 0.01 + (0.1 * 5) / 5, 0.11]);
  const joined = joinSchedules([warm, cos], [5]);
  assert.deepEqual([joined(4), joined(5), joined(8)], [warm(4), cos(0), cos(3)]);
});

Deno.test("a warm-up then cosine schedule drives sgd step by step", () => {
  const lr = joinSchedules([
    linearWarmup({ peak: 0.1, warmupSteps: 3 }),
    cosineDecay({ init: 0.1, decaySteps: 3 }),
  ], [3]);
  const expected = runReference(refSgd(lr, 0.5));
  assertClose(runFlat(sgd({ lr, momentum: 0.5 })), expected);
});

Deno.test("bad options are RangeErrors naming the option and its value", () => {
  const bad: [() => unknown, RegExp][] = [
    [() => sgd({ lr: -1 }), /sgd: lr must be .*got -1/],
    [() => sgd({ lr: NaN }), /sgd: lr must be .*got NaN/],
    [() => sgd({ lr: 0.1, momentum: 1 }), /sgd: momentum must be a number in \[0, 1\), got 1/],
    [() => sgd({ lr: 0.1, nesterov: true }), /sgd: nesterov needs momentum > 0/],
    [() => rmsprop({ lr: 0.1, alpha: -0.5 }), /rmsprop: alpha .* got -0.5/],
    [() => adam({ lr: 0.1, beta1: 1.5 }), /adam: beta1 must be a number in \[0, 1\), got 1.5/],
    [() => adam({ lr: 0.1, eps: -1 }), /adam: eps .* got -1/],
    [() => adamw({ lr: 0.1, weightDecay: Infinity }), /adamw: weightDecay .* got Infinity/],
    [() => clipByGlobalNorm(0), /clipByGlobalNorm: maxNorm must be a finite number > 0, got 0/],
    [
      () => cosineDecay({ init: 1, decaySteps: 2.5 }),
      /cosineDecay: decaySteps must be a positive integer, got 2.5/,
    ],
    [() => linearWarmup({ peak: 1, warmupSteps: 0 }), /linearWarmup: warmupSteps .* got 0/],
    [() => exponentialDecay({ init: 1, decayRate: 0 }), /exponentialDecay: decayRate .* got 0/],
    [
      () => joinSchedules([constantSchedule(1), constantSchedule(2)], [0]),
      /boundaries\[0\] .* got 0/,
    ],
  ];
  for (const [f, message] of bad) {
    assert.throws(f, (e: Error) => e instanceof RangeError && message.test(e.message));
  }
  const broken = sgd({ lr: () => NaN });
  assert.throws(
    () => broken.stepFlat(new Float64Array(1), new Float64Array(1), broken.initFlat(1)),
    /sgd: the lr schedule returned NaN at step 0/,
  );
});

Deno.test("misuse is a TypeError that says what to do", () => {
  const opt = adamw({ lr: 0.1 });
  assert.throws(() => opt.update([1], opt.init([1])), /adamw.update: this optimizer needs params/);
  assert.throws(
    () => opt.update([1, 2], opt.init([1]), [1, 2]),
    /make it with init\(\) or initFlat\(\)/,
  );
  assert.throws(
    () => opt.update([Matrix.zeros(1, 2)], opt.init([Matrix.zeros(2, 1)]), [Matrix.zeros(2, 1)]),
    /grads \(\[1x2\]\) does not have the structure of params \(\[2x1\]\)/,
  );
  assert.throws(() => chain(adam({ lr: 1 }), clipByGlobalNorm(1)), /exactly one optimizer last/);
  assert.throws(
    () => adam(undefined as never),
    /adam: options must be an object such as \{ lr: 0.01 \}/,
  );
  assert.throws(
    () => sgd({} as never),
    /sgd: lr must be a finite number >= 0 or a schedule, got undefined/,
  );
  assert.throws(() => chain(clipByGlobalNorm(1)), /got 0 optimizer/);
  assert.throws(() => sgd({ lr: 1 }).update(["w"] as never, sgd({ lr: 1 }).init([1])), TypeError);
  const flat = sgd({ lr: 1 });
  assert.throws(
    () => flat.stepFlat(new Float64Array(2), new Float64Array(3), flat.initFlat(2)),
    /sgd.stepFlat: grads has 3 elements but params has 2/,
  );
});
