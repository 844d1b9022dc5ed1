// `jit`: trace a function once per input structure and shapes into a plan (lib/autograd/_plan.ts)
// and run the plan on later calls with the same shapes.

import { Matrix } from "../matrix.ts";
import { compilePlan, type Plan, type PlanSize, type StepTime } from "./_plan.ts";
import { withScratch } from "../_arena.ts";
import { type Node, type Tensor, Trace, Traced, traceLeaf, type Value } from "./tracer.ts";
import { flatten, runTrace } from "./transforms.ts";

/** What a jitted function's plan cache has done so far. */
export interface JitCache {
  /** Calls that ran a cached plan. */
  hits: number;
  /** Calls that traced the function and compiled a new plan. */
  misses: number;
  /** Plans held now (at most {@linkcode MAX_PLANS}; the oldest is dropped first). */
  plans: number;
  /** The size of each plan held, oldest first. */
  sizes: PlanSize[];
}

/** A jitted function: `f`'s signature, plus its plan cache's counts. */
// deno-lint-ignore no-explicit-any
export type Jitted<F extends (...args: any[]) => any> = F & {
  /** The plan cache's counts, read live. */
  readonly cache: JitCache;
};

/** How many plans (distinct input shapes) one jitted function keeps. */
export const MAX_PLANS = 16;

// The structure and shapes of the arguments a plan was traced with, matched on every call
// without allocating: kind 0 a number, 1 a matrix, 2 an array, 3 a plain object.
interface Skeleton {
  kind: 0 | 1 | 2 | 3;
  rows: number;
  cols: number;
  keys: string[];
  items: Skeleton[];
}

function skeletonOf(x: unknown): Skeleton {
  const s: Skeleton = { kind: 0, rows: 0, cols: 0, keys: [], items: [] };
  if (x instanceof Matrix) (s.kind = 1, s.rows = x.rows, s.cols = x.cols);
  else if (Array.isArray(x)) (s.kind = 2, s.items = x.map(skeletonOf));
  else if (typeof x === "object" && x !== null) {
    s.kind = 3;
    s.keys = Object.keys(x);
    s.items = s.keys.map((k) => skeletonOf((x as Record<string, unknown>)[k]));
  }
  return s;
}

/**
 * Writes the leaves of `x` into `out` from index `i` if `x` has the skeleton's structure and
 * shapes, returning the next index; -1 if it does not.
 */
function bind(s: Skeleton, x: unknown, out: Value[], i: number): number {
  switch (s.kind) {
    case 0:
      if (typeof x !== "number") return -1;
      out[i] = x;
      return i + 1;
    case 1:
      if (!(x instanceof Matrix) || x.rows !== s.rows || x.cols !== s.cols) return -1;
      out[i] = x;
      return i + 1;
    case 2: {
      const items = s.items;
      if (!Array.isArray(x) || x.length !== items.length) return -1;
      for (let j = 0; j < items.length && i >= 0; j++) i = bind(items[j], x[j], out, i);
      return i;
    }
    default: {
      if (typeof x !== "object" || x === null || Object.getPrototypeOf(x) !== Object.prototype) {
        return -1;
      }
      const keys = Object.keys(x), want = s.keys;
      if (keys.length !== want.length) return -1;
      for (let j = 0; j < want.length && i >= 0; j++) {
        if (keys[j] !== want[j]) return -1;
        i = bind(s.items[j], (x as Record<string, unknown>)[want[j]], out, i);
      }
      return i;
    }
  }
}

function hasTraced(x: unknown): boolean {
  if (x instanceof Traced) return true;
  if (Array.isArray(x)) return x.some(hasTraced);
  if (typeof x === "object" && x !== null && !(x instanceof Matrix)) {
    return Object.values(x).some(hasTraced);
  }
  return false;
}

interface Entry {
  skeleton: Skeleton;
  plan: Plan;
  /** The input leaves of the current call, in flatten order. */
  inputs: Value[];
  rebuild: (leaves: Tensor[]) => unknown;
}

/**
 * `jit(f)` returns a function that computes what `f` computes, faster when called many times
 * with arguments of the same structure and shapes (a training step): the first call with a
 * given structure and shapes traces `f` into a plan of primitive applications over
 * preallocated buffers; later calls run the plan (no tracing, tape or boxes), giving the same
 * bits as calling `f`. `jit(valueAndGrad(f))` traces the forward and the backward pass into
 * one plan.
 *
 * Arguments are numbers, matrices, or arrays and plain objects nesting them; they stay
 * inputs of the plan. Everything else `f` uses (numbers and matrices it closes over, shapes)
 * is baked into the plan when it is traced: matrices are copied, so changing one afterwards
 * does not reach the plan (pass it as an argument instead). So a plan cannot follow JS control
 * flow that depends on a traced value: using one as a number (`x > 0`, `x * 2`,
 * `Math.max(x, 0)`) throws a `TypeError` naming jit, but `if (x)` cannot be detected (every
 * object is truthy), and a branch on a closed-over value is fixed by the first trace.
 *
 * Results follow the lifetime of eager results: inside `withScratch` they live in scratch
 * memory until the next outermost `withScratch` call; outside it they are fresh matrices.
 * When an argument is itself traced (`grad(jit(f))`), the function runs `f` as it is, so
 * the outer transform traces through it. `.cache` counts plan hits and misses; a function
 * keeps up to {@linkcode MAX_PLANS} plans, dropping the oldest.
 *
 * @example The gradient of a loss, jitted: one trace, then cached plans
 * ```ts
 * import { jit, Matrix, mean, mul, square, sub, valueAndGrad, type Tensor } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const loss = (w: Tensor, x: Tensor, y: Tensor) => mean(square(sub(mul(w, x), y)));
 * const step = jit(valueAndGrad(loss));
 * const x = Matrix.from([[1, 2, 3]]), y = Matrix.from([[2, 4, 6]]);
 * assert.deepEqual(step(1.5, x, y), valueAndGrad(loss)(1.5, x, y)); // the same bits
 * step(2, x, y);
 * assert.deepEqual([step.cache.hits, step.cache.misses], [1, 1]);
 * assert.throws(() => jit((v: Tensor) => (v as unknown as number) > 0 ? v : 0)(1), /jit/);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function jit<F extends (...args: any[]) => any>(f: F): Jitted<F> {
  if (typeof f !== "function") {
    throw new TypeError(`jit: expected a function, got ${typeof f}`);
  }
  const entries: Entry[] = [];
  let hits = 0, misses = 0;
  const jitted = (...args: unknown[]): unknown => {
    for (let e = entries.length - 1; e >= 0; e--) {
      const entry = entries[e];
      if (bind(entry.skeleton, args, entry.inputs, 0) === entry.inputs.length) {
        hits++;
        return entry.rebuild(entry.plan.run(entry.inputs));
      }
    }
    if (hasTraced(args)) return f(...args); // under another transform: let it trace through
    misses++;
    const entry = trace(f, args);
    if (entries.push(entry) > MAX_PLANS) entries.shift();
    bind(entry.skeleton, args, entry.inputs, 0);
    return entry.rebuild(entry.plan.run(entry.inputs));
  };
  Object.defineProperty(jitted, "cache", {
    get: (): JitCache => ({
      hits,
      misses,
      plans: entries.length,
      sizes: entries.map((e) => e.plan.size),
    }),
  });
  Object.defineProperty(jitted, "name", { value: `jit(${f.name})` });
  caches.set(jitted, entries);
  return jitted as unknown as Jitted<F>;
}

const caches = new WeakMap<object, Entry[]>();

/**
 * @internal The time of each step of the plan a jitted function runs for `args` (compiling it
 * if needed), each step run `reps` times inside `withScratch`: where a plan's time goes.
 */
// deno-lint-ignore no-explicit-any
export function profileJit(jitted: Jitted<any>, args: unknown[], reps: number): StepTime[] {
  return withScratch(() => {
    jitted(...args);
    const entry = caches.get(jitted)!.find((e) =>
      bind(e.skeleton, args, e.inputs, 0) === e.inputs.length
    )!;
    return entry.plan.profile(entry.inputs, reps);
  });
}

/** Traces `f` at `args` on a jit trace and compiles the tape. */
// deno-lint-ignore no-explicit-any
function trace(f: (...args: any[]) => unknown, args: unknown[]): Entry {
  const [leaves, rebuildArgs] = flatten(args, "jit", "arguments");
  const t = new Trace("jit", "jit");
  const boxes = leaves.map((leaf) => traceLeaf(t, leaf));
  const out = runTrace(t, f, rebuildArgs(boxes) as unknown[]);
  const [outs, rebuild] = flatten(out, "jit", "the result");
  const refs = outs.map((o) =>
    o instanceof Traced && o.trace === t ? { node: o.node as Node } : { value: o }
  );
  const plan = compilePlan(t.tape, boxes.map((b) => b.node!), refs);
  return { skeleton: skeletonOf(args), plan, inputs: new Array(leaves.length), rebuild };
}
