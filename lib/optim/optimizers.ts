// Optimizers in the Optax shape over parameter trees, and in place over flat vectors; one kernel each.

import type { Tree } from "../autograd/transforms.ts";
import {
  checkNumber,
  checkOptionsObject,
  checkSameStructure,
  DECAY,
  NON_NEGATIVE,
  POSITIVE,
  ravel,
} from "./_flat.ts";
import { type LearningRate, toRate } from "./schedules.ts";

/**
 * An optimizer's state: the number of updates applied so far and its per-element buffers
 * (Adam's two moments, SGD's momentum, …), each as long as the flattened parameters. Plain data,
 * so it can be saved and restored.
 */
export interface OptimizerState {
  /** Updates applied so far (the step a schedule sees next). */
  count: number;
  /** The per-element buffers, in the order of the chain's stages. */
  slots: Float64Array[];
}

/** The buffers one step works on, reused between steps so that a step allocates nothing. */
export interface StepContext {
  /** Where the new values go: the parameters (flat form) or the updates (pure form). */
  out: Float64Array;
  /** What the step subtracts from: the parameters (flat form, same array as `out`) or zeros. */
  base: Float64Array;
  /** The parameters before the step (for weight decay); zeros if none were given. */
  params: Float64Array;
  /** The gradient; a `"gradient"` stage (clipping) rewrites it in place. */
  grads: Float64Array;
  /** The state's buffers. */
  slots: Float64Array[];
  /** Updates applied before this one. */
  count: number;
}

/**
 * One stage of an optimizer, written once over flat vectors and shared by the pure and the flat
 * form. A `"gradient"` stage rewrites `grads` in place; an `"update"` stage writes
 * `out[i] = base[i] − step[i]` from its `slots` (those from index `first` on).
 */
export interface Stage {
  /** The kind of stage: gradient transformations come first in a chain, one update last. */
  readonly kind: "gradient" | "update";
  /** How many per-element buffers the stage keeps. */
  readonly slots: number;
  /** Whether the stage reads the parameters (decoupled weight decay does). */
  readonly usesParams: boolean;
  /** Runs the stage on `context`; its buffers are `context.slots[first …]`. */
  run(context: StepContext, first: number): void;
}

/** Something {@linkcode chain} accepts: an optimizer, or a gradient transformation. */
export interface GradientTransformation {
  /** The stages, applied in order. */
  readonly stages: readonly Stage[];
}

/**
 * An optimizer, in Optax's shape for trees of numbers and matrices, and in place over one flat
 * `Float64Array` for a trainer's shared parameter buffer. Both forms run the same kernel, so
 * they give the same numbers.
 */
export interface Optimizer extends GradientTransformation {
  /** The state for parameters shaped like `params` (all buffers zero, count 0). */
  init(params: Tree): OptimizerState;
  /**
   * `[updates, newState]` for the gradient `grads` (a tree shaped like the parameters); add the
   * updates with {@linkcode applyUpdates}. `params` is needed by `adamw`. Pure: neither the
   * state nor the arguments change.
   */
  update<T extends Tree>(grads: T, state: OptimizerState, params?: Tree): [T, OptimizerState];
  /** The state for `n` flat parameters. */
  initFlat(n: number): OptimizerState;
  /**
   * One step in place: updates `params`, `state.slots` and `state.count`, allocating nothing.
   * A clipping stage rescales `grads` in place.
   */
  stepFlat(params: Float64Array, grads: Float64Array, state: OptimizerState): void;
}

function makeOptimizer(where: string, stages: readonly Stage[]): Optimizer {
  const slotCount = stages.reduce((n, s) => n + s.slots, 0);
  const usesParams = stages.some((s) => s.usesParams);
  const run = makeRunner(stages);
  const initFlat = (n: number): OptimizerState => {
    checkNumber(where, "the parameter count", n, {
      test: (x) => Number.isInteger(x) && x >= 0,
      expected: "an integer >= 0",
    });
    return { count: 0, slots: Array.from({ length: slotCount }, () => new Float64Array(n)) };
  };
  return {
    stages,
    init: (params) => initFlat(ravel(params, `${where}.init`, "params").data.length),
    update(grads, state, params) {
      const g = ravel(grads, `${where}.update`, "grads");
      const n = g.data.length;
      checkState(where, state, slotCount, n);
      let p: Float64Array = new Float64Array(n);
      if (params !== undefined) {
        const raveled = ravel(params, `${where}.update`, "params");
        checkSameStructure(`${where}.update`, raveled, "params", g, "grads");
        p = raveled.data;
      } else if (usesParams) {
        throw new TypeError(`${where}.update: this optimizer needs params (its third argument)`);
      }
      const next = { count: state.count, slots: state.slots.map((s) => s.slice()) };
      const updates = new Float64Array(n); // zeros: the updates are 0 - step
      run(updates, updates, p, g.data, next);
      next.count++;
      return [g.unravel(updates) as typeof grads, next];
    },
    initFlat,
    stepFlat(params, grads, state) {
      if (!(params instanceof Float64Array) || !(grads instanceof Float64Array)) {
        throw new TypeError(`${where}.stepFlat: params and grads must be Float64Arrays`);
      }
      if (grads.length !== params.length) {
        throw new RangeError(
          `${where}.stepFlat: grads has ${grads.length} elements but params has ${params.length}`,
        );
      }
      checkState(where, state, slotCount, params.length);
      run(params, params, params, grads, state);
      state.count++;
    },
  };
}

/** Runs the stages in order over one context object, reused so that a step allocates nothing. */
function makeRunner(stages: readonly Stage[]) {
  const empty = new Float64Array(0), none: Float64Array[] = [];
  const context: StepContext = {
    out: empty,
    base: empty,
    params: empty,
    grads: empty,
    slots: none,
    count: 0,
  };
  return (
    out: Float64Array,
    base: Float64Array,
    params: Float64Array,
    grads: Float64Array,
    state: OptimizerState,
  ) => {
    context.out = out;
    context.base = base;
    context.params = params;
    context.grads = grads;
    context.slots = state.slots;
    context.count = state.count;
    let first = 0;
    for (let i = 0; i < stages.length; i++) {
      stages[i].run(context, first);
      first += stages[i].slots;
    }
    context.out =
      context.base =
      context.params =
      context.grads =
        empty; // hold no user buffers
    context.slots = none;
  };
}

function checkState(where: string, state: OptimizerState, slotCount: number, n: number): void {
  let ok = state !== null && typeof state === "object" && Number.isInteger(state.count) &&
    Array.isArray(state.slots) && state.slots.length === slotCount;
  for (let i = 0; ok && i < slotCount; i++) {
    ok = state.slots[i] instanceof Float64Array && state.slots[i].length === n;
  }
  if (!ok) {
    throw new TypeError(
      `${where}: the state does not belong to this optimizer and ${n} parameters; ` +
        "make it with init() or initFlat()",
    );
  }
}

/**
 * `params + updates`, leaf by leaf, as a new tree (Optax's `apply_updates`).
 *
 * @example
 * ```ts
 * import { applyUpdates, Matrix } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const [w, b] = applyUpdates([Matrix.from([[1, 2]]), 3], [Matrix.from([[0.5, 0.5]]), -1]);
 * assert.deepEqual([w.toArray(), b], [[[1.5, 2.5]], 2]);
 * ```
 */
export function applyUpdates<T extends Tree>(params: T, updates: Tree): T {
  const p = ravel(params, "applyUpdates", "params");
  const u = ravel(updates, "applyUpdates", "updates");
  checkSameStructure("applyUpdates", p, "params", u, "updates");
  const out = p.data;
  for (let i = 0; i < out.length; i++) out[i] = out[i] + u.data[i];
  return p.unravel(out) as T;
}

/** Options of {@linkcode sgd}. */
export interface SgdOptions {
  /** The learning rate: a number or a schedule of the step. */
  lr: LearningRate;
  /** Momentum factor μ in [0, 1) (default 0: plain SGD). */
  momentum?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent, as PyTorch's `SGD` without dampening: with momentum μ,
 * `b = μ·b + g` (so `b = g` at the first step), then `p −= lr·b`, or `p −= lr·(g + μ·b)` with
 * Nesterov; without, `p −= lr·g`.
 *
 * Plain SGD's flat form computes exactly `p[i] = p[i] - lr * g[i]`, the expression of the
 * trainer's original inline update, so switching the trainer to `sgd({ lr })` keeps its models
 * bit for bit. The pure form's update is `0 - lr * g[i]`, and `p + (0 - lr·g)` equals
 * `p - lr·g` exactly.
 *
 * @example
 * ```ts
 * import { applyUpdates, sgd } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const opt = sgd({ lr: 0.1 });
 * const [updates] = opt.update([2], opt.init([1]));
 * assert.deepEqual(applyUpdates([1], updates), [0.8]);
 * ```
 */
export function sgd(options: SgdOptions): Optimizer {
  const where = "sgd";
  checkOptionsObject(where, options);
  const rate = toRate(where, options.lr);
  const mu = checkNumber(where, "momentum", options.momentum ?? 0, DECAY);
  const nesterov = options.nesterov ?? false;
  if (typeof nesterov !== "boolean") {
    throw new TypeError(`${where}: nesterov must be a boolean, got ${String(nesterov)}`);
  }
  if (nesterov && mu === 0) throw new RangeError(`${where}: nesterov needs momentum > 0, got 0`);
  const stage: Stage = {
    kind: "update",
    slots: mu === 0 ? 0 : 1,
    usesParams: false,
    run({ out, base, grads: g, slots, count }, first) {
      const lr = rate(count);
      if (mu === 0) {
        for (let i = 0; i < out.length; i++) out[i] = base[i] - lr * g[i];
        return;
      }
      const b = slots[first];
      for (let i = 0; i < out.length; i++) {
        const bi = mu * b[i] + g[i];
        b[i] = bi;
        out[i] = base[i] - lr * (nesterov ? g[i] + mu * bi : bi);
      }
    },
  };
  return makeOptimizer(where, [stage]);
}

/** Options of {@linkcode rmsprop}. */
export interface RmspropOptions {
  /** The learning rate: a number or a schedule of the step. */
  lr: LearningRate;
  /** Smoothing constant α of the squared-gradient average (default 0.99, as PyTorch). */
  alpha?: number;
  /** Added to the root mean square (default 1e-8). */
  eps?: number;
}

/**
 * RMSprop as PyTorch's `RMSprop` (not centred, no momentum): `v = α·v + (1 − α)·g²`,
 * `p −= lr·g / (√v + eps)`.
 *
 * @example
 * ```ts
 * import { applyUpdates, rmsprop } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const opt = rmsprop({ lr: 0.01, alpha: 0.9, eps: 0 });
 * const [updates] = opt.update([3], opt.init([0]));
 * assert.ok(Math.abs((updates[0] as number) + 0.01 / Math.sqrt(0.1)) < 1e-15);
 * ```
 */
export function rmsprop(options: RmspropOptions): Optimizer {
  const where = "rmsprop";
  checkOptionsObject(where, options);
  const rate = toRate(where, options.lr);
  const alpha = checkNumber(where, "alpha", options.alpha ?? 0.99, DECAY);
  const eps = checkNumber(where, "eps", options.eps ?? 1e-8, NON_NEGATIVE);
  const stage: Stage = {
    kind: "update",
    slots: 1,
    usesParams: false,
    run({ out, base, grads: g, slots, count }, first) {
      const lr = rate(count);
      const v = slots[first];
      for (let i = 0; i < out.length; i++) {
        const vi = alpha * v[i] + (1 - alpha) * g[i] * g[i];
        v[i] = vi;
        out[i] = base[i] - lr * g[i] / (Math.sqrt(vi) + eps);
      }
    },
  };
  return makeOptimizer(where, [stage]);
}

/** Options of {@linkcode adam}. */
export interface AdamOptions {
  /** The learning rate: a number or a schedule of the step. */
  lr: LearningRate;
  /** Decay of the first-moment average (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment average (default 0.999). */
  beta2?: number;
  /** Added to the bias-corrected root second moment (default 1e-8). */
  eps?: number;
}

/** Options of {@linkcode adamw}. */
export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay λ: `p −= lr·λ·p` each step (default 0.01, as PyTorch). */
  weightDecay?: number;
}

/**
 * Adam as PyTorch's `Adam` documents it: at step t (1, 2, …), `m = β₁·m + (1 − β₁)·g`,
 * `v = β₂·v + (1 − β₂)·g²`, `m̂ = m / (1 − β₁ᵗ)`, `v̂ = v / (1 − β₂ᵗ)`,
 * `p −= lr·m̂ / (√v̂ + eps)` (eps outside the root, after bias correction).
 *
 * @example
 * ```ts
 * import { adam, applyUpdates } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const opt = adam({ lr: 0.1 });
 * let params = { w: 1 }, state = opt.init(params);
 * for (let step = 0; step < 3; step++) {
 *   let updates;
 *   [updates, state] = opt.update({ w: 2 * params.w }, state); // the gradient of w²
 *   params = applyUpdates(params, updates);
 * }
 * assert.ok(params.w > 0.7 && params.w < 0.75); // Adam's first steps move by about lr each
 * ```
 */
export function adam(options: AdamOptions): Optimizer {
  checkOptionsObject("adam", options);
  return makeOptimizer("adam", [adamStage("adam", options, 0)]);
}

/**
 * AdamW as PyTorch's `AdamW` documents it: first the decoupled weight decay `p −= lr·λ·p`, then
 * the {@linkcode adam} step on the decayed `p`, with the same lr (a schedule scales both).
 * `update` needs the parameters as its third argument.
 *
 * @example
 * ```ts
 * import { adamw, applyUpdates } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const opt = adamw({ lr: 0.1, weightDecay: 0.5 });
 * const [updates] = opt.update([0], opt.init([2]), [2]); // zero gradient: only the decay
 * assert.deepEqual(applyUpdates([2], updates), [1.9]);
 * ```
 */
export function adamw(options: AdamWOptions): Optimizer {
  checkOptionsObject("adamw", options);
  const wd = checkNumber("adamw", "weightDecay", options.weightDecay ?? 0.01, NON_NEGATIVE);
  return makeOptimizer("adamw", [adamStage("adamw", options, wd)]);
}

function adamStage(where: string, options: AdamOptions, wd: number): Stage {
  const rate = toRate(where, options.lr);
  const b1 = checkNumber(where, "beta1", options.beta1 ?? 0.9, DECAY);
  const b2 = checkNumber(where, "beta2", options.beta2 ?? 0.999, DECAY);
  const eps = checkNumber(where, "eps", options.eps ?? 1e-8, NON_NEGATIVE);
  return {
    kind: "update",
    slots: 2,
    usesParams: wd !== 0,
    run({ out, base, params: p, grads: g, slots, count }, first) {
      const lr = rate(count);
      const t = count + 1;
      const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
      const m = slots[first], v = slots[first + 1];
      for (let i = 0; i < out.length; i++) {
        const mi = b1 * m[i] + (1 - b1) * g[i];
        const vi = b2 * v[i] + (1 - b2) * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        const decayed = wd === 0 ? base[i] : base[i] - lr * wd * p[i];
        out[i] = decayed - lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
      }
    },
  };
}

/**
 * Clipping by global norm, as Optax's `clip_by_global_norm`: when the norm `‖g‖` of the whole
 * gradient (every leaf together) is at least `maxNorm`, every element becomes
 * `g / ‖g‖ · maxNorm`. Put it first in a {@linkcode chain}.
 *
 * @example
 * ```ts
 * import { applyUpdates, chain, clipByGlobalNorm, sgd } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const opt = chain(clipByGlobalNorm(1), sgd({ lr: 1 }));
 * const [updates] = opt.update([3, 4], opt.init([0, 0])); // norm 5, clipped to 1
 * assert.deepEqual(applyUpdates([0, 0], updates), [-0.6, -0.8]);
 * ```
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation {
  checkNumber("clipByGlobalNorm", "maxNorm", maxNorm, POSITIVE);
  const stage: Stage = {
    kind: "gradient",
    slots: 0,
    usesParams: false,
    run({ grads: g }) {
      let squares = 0;
      for (let i = 0; i < g.length; i++) squares += g[i] * g[i];
      const norm = Math.sqrt(squares);
      if (norm < maxNorm) return;
      for (let i = 0; i < g.length; i++) g[i] = g[i] / norm * maxNorm;
    },
  };
  return { stages: [stage] };
}

/**
 * Optax's `chain`: gradient transformations (such as {@linkcode clipByGlobalNorm}) applied in
 * order, then one optimizer, as a single optimizer whose state holds all their buffers.
 *
 * @example
 * ```ts
 * import { adam, chain, clipByGlobalNorm } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const opt = chain(clipByGlobalNorm(1), adam({ lr: 1e-3 }));
 * const params = new Float64Array([1, 2]), state = opt.initFlat(2);
 * opt.stepFlat(params, new Float64Array([30, 40]), state); // the trainer's in-place form
 * assert.equal(state.count, 1);
 * ```
 */
export function chain(...parts: GradientTransformation[]): Optimizer {
  const stages = parts.flatMap((part, i) => {
    if (part === null || typeof part !== "object" || !Array.isArray(part.stages)) {
      throw new TypeError(`chain: argument ${i} is not an optimizer or a gradient transformation`);
    }
    return part.stages;
  });
  const updates = stages.filter((s) => s.kind === "update").length;
  if (updates !== 1 || stages.at(-1)!.kind !== "update") {
    throw new TypeError(
      "chain: expected gradient transformations followed by exactly one optimizer last, " +
        `got ${updates} optimizer(s)${updates === 1 ? " not in last place" : ""}`,
    );
  }
  return makeOptimizer("chain", stages);
}
