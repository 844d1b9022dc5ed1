// The transforms `grad`, `valueAndGrad`, `vjp` and `jvp`: thin layers over the reverse engine
// `makeVjp` here and the forward pass in tracer.ts.

import { Matrix } from "../matrix.ts";
import { add } from "./ops.ts";
import {
  backward,
  describe,
  formatShape,
  type Node,
  sameShape,
  shapeOf,
  type Tensor,
  Trace,
  Traced,
  traceLeaf,
  traceTangent,
  type Value,
} from "./tracer.ts";

/** Numbers and matrices, alone or nested in arrays and plain objects (like a weight list). */
export type Tree = Tensor | readonly Tree[] | { readonly [key: string]: Tree };

/** The gradient of a tree: the same structure, with a plain value for every leaf. */
export type Grad<T> = T extends number ? number
  : T extends Matrix ? Matrix
  : T extends Traced ? Value
  : T extends readonly unknown[] ? { -readonly [K in keyof T]: Grad<T[K]> }
  : T extends object ? { -readonly [K in keyof T]: Grad<T[K]> }
  : never;

/** Whether `x` is a leaf of a tree: a number, a matrix or a traced value. */
function isLeaf(x: unknown): x is Tensor {
  return typeof x === "number" || x instanceof Matrix || x instanceof Traced;
}

/**
 * @internal Leaves of a tree in a fixed order, with a function that rebuilds the tree from new
 * leaves, and each leaf's path from `root` (e.g. `weights[2]`, for messages and graph labels).
 */
export function flatten(
  tree: unknown,
  where: string,
  root = "argument",
): [Tensor[], (leaves: Tensor[]) => unknown, string[]] {
  const leaves: Tensor[] = [];
  const paths: string[] = [];
  const visit = (x: unknown, path: string): (next: () => Tensor) => unknown => {
    if (isLeaf(x)) {
      leaves.push(x);
      paths.push(path);
      return (next) => next();
    }
    if (Array.isArray(x)) {
      const parts = x.map((item, i) => visit(item, `${path}[${i}]`));
      return (next) => parts.map((p) => p(next));
    }
    if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
      const keys = Object.keys(x);
      const parts = keys.map((key) => visit((x as Record<string, unknown>)[key], `${path}.${key}`));
      return (next) => Object.fromEntries(keys.map((key, i) => [key, parts[i](next)]));
    }
    throw new TypeError(
      `${where}: ${path} is ${describe(x)}; expected a number, a Matrix, or arrays and ` +
        "plain objects of them",
    );
  };
  const build = visit(tree, root);
  return [leaves, (values) => {
    let i = 0;
    return build(() => values[i++]);
  }, paths];
}

/** The root of the output tree's paths in messages: "the result[1] is null". */
const RESULT = "the result";

function zerosLike(t: Tensor): Value {
  const s = shapeOf(t);
  return s === undefined ? 0 : Matrix.zeros(s[0], s[1]);
}

/**
 * @internal Runs `f(...args)` under `trace`, which is finished however `f` ends, so a box that
 * escapes is refused by the next op.
 */
// deno-lint-ignore no-explicit-any
export function runTrace(trace: Trace, f: (...args: any[]) => unknown, args: unknown[]): unknown {
  try {
    return f(...args);
  } finally {
    trace.finished = true;
  }
}

/**
 * @internal The reverse-mode engine (HIPS autograd's `make_vjp`) that the transforms share:
 * traces `f` at `primals` and returns its output, as a tree of plain values, with the pullback
 * that maps a cotangent tree of the output's structure to a cotangent tree per primal.
 */
export function makeVjp(
  // deno-lint-ignore no-explicit-any
  f: (...args: any[]) => unknown,
  primals: unknown[],
  where: string,
): [unknown, (g: unknown) => unknown[]] {
  const trace = new Trace("reverse", where);
  const rebuilds: ((leaves: Tensor[]) => unknown)[] = [];
  const counts: number[] = [];
  const leafNodes: Node[] = [];
  const leafValues: Tensor[] = [];
  const traced = primals.map((p) => {
    const [leaves, rebuild] = flatten(p, where);
    rebuilds.push(rebuild);
    counts.push(leaves.length);
    return rebuild(leaves.map((leaf) => {
      const box = traceLeaf(trace, leaf);
      leafNodes.push(box.node!);
      leafValues.push(leaf);
      return box;
    }));
  });
  const [outs, rebuildOut, outPaths] = flatten(runTrace(trace, f, traced), where, RESULT);
  const own = (t: Tensor): t is Traced => t instanceof Traced && t.trace === trace;
  const values = outs.map((t) => own(t) ? t.value : t);
  const pullback = (g: unknown): unknown[] => {
    const gs = matchTree(where, "cotangent", g, values, outPaths);
    const seeds: Node[] = [], seedValues: Tensor[] = [];
    outs.forEach((t, i) => {
      if (own(t)) (seeds.push(t.node!), seedValues.push(gs[i]));
    });
    const cotangents = seeds.length > 0 ? backward(trace, seeds, seedValues, leafNodes, add) : [];
    const grads = leafValues.map((leaf, i) => cotangents[i] ?? zerosLike(leaf));
    let offset = 0;
    return rebuilds.map((rebuild, i) => rebuild(grads.slice(offset, offset += counts[i])));
  };
  return [rebuildOut(values), pullback];
}

/**
 * The leaves of `tree` (a cotangent or tangent), checked against the leaves `like` of the
 * value it goes with: the same number of leaves and each the same shape.
 */
function matchTree(
  where: string,
  what: string,
  tree: unknown,
  like: Tensor[],
  paths: string[],
): Tensor[] {
  const [leaves] = flatten(tree, where, what);
  if (leaves.length !== like.length) {
    throw new TypeError(
      `${where}: the ${what} has ${leaves.length} leaves but the output has ${like.length}; ` +
        "give it the output's structure",
    );
  }
  leaves.forEach((leaf, i) => {
    if (!sameShape(leaf, like[i])) {
      const at = paths[i] === RESULT ? "" : ` at ${paths[i]}`;
      throw new TypeError(
        `${where}: the ${what}'s shape${at} ${formatShape(shapeOf(leaf))} differs from the ` +
          `output's ${formatShape(shapeOf(like[i]))}`,
      );
    }
  });
  return leaves;
}

/** @internal A RangeError unless `argnum` picks one of `args`, naming the transform. */
export function checkArgnum(where: string, argnum: number, args: unknown[]): void {
  if (!Number.isInteger(argnum) || argnum < 0 || argnum >= args.length) {
    throw new RangeError(
      `${where}: argnum ${argnum} is out of range for a call with ${args.length} argument(s)`,
    );
  }
}

/**
 * @internal `f` as a function of its argument `argnum` alone, the other arguments fixed to
 * those of `args`: what every transform differentiates.
 */
export function ofArgument<R>(
  // deno-lint-ignore no-explicit-any
  f: (...args: any[]) => R,
  args: readonly unknown[],
  argnum: number,
): (x: unknown) => R {
  return (x) => f(...args.map((a, i) => i === argnum ? x : a));
}

/**
 * @internal The cotangent 1 for a scalar output `value` (a number, or a 1x1 matrix), else a
 * TypeError naming `where`, what it got and `remedy`.
 */
export function unitCotangent(
  where: string,
  value: unknown,
  remedy = "reduce it with sum() or mean(), or use vjp()",
): Tensor {
  const s = isLeaf(value) ? shapeOf(value) : [];
  if (s === undefined) return 1;
  if (s[0] === 1 && s[1] === 1) return Matrix.full(1, 1, 1);
  const got = s.length === 2 ? `a ${formatShape(s as [number, number])} matrix` : describe(value);
  throw new TypeError(
    `${where}: the function must return a scalar (a number or a 1x1 matrix), got ${got}; ` +
      remedy,
  );
}

/**
 * `valueAndGrad(f, argnum)` returns a function that evaluates `f` and its gradient with
 * respect to argument `argnum` in one pass: `[f(...args), ∇f]`.
 *
 * @example
 * ```ts
 * import { add, mul, valueAndGrad, type Tensor } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const f = (x: Tensor) => add(mul(3, mul(x, x)), 7); // 3x² + 7
 * assert.deepEqual(valueAndGrad(f)(2), [19, 12]);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function valueAndGrad<A extends any[], N extends number = 0>(
  f: (...args: A) => Tensor,
  argnum: N = 0 as N,
): <B extends A>(...args: B) => [Value, Grad<B[N]>] {
  return <B extends A>(...args: B) => {
    checkArgnum("grad", argnum, args);
    const [value, pullback] = makeVjp(ofArgument(f, args, argnum), [args[argnum]], "grad");
    const gradient = pullback(unitCotangent("grad", value))[0] as Grad<B[N]>;
    return [value as Value, gradient];
  };
}

/**
 * `grad(f, argnum)` returns a function with `f`'s arguments that computes the gradient of
 * the scalar `f` with respect to argument `argnum`, which may be a number, a matrix, or
 * arrays / plain objects nesting them; the gradient has the same structure.
 *
 * @example The chain rule on f(x) = 3x² + 7, and a second derivative
 * ```ts
 * import { add, grad, mul, type Tensor } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const f = (x: Tensor) => add(mul(3, mul(x, x)), 7);
 * assert.equal(grad(f)(2), 12); // 6x
 * assert.equal(grad(grad(f))(2), 6);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function grad<A extends any[], N extends number = 0>(
  f: (...args: A) => Tensor,
  argnum: N = 0 as N,
): <B extends A>(...args: B) => Grad<B[N]> {
  const vg = valueAndGrad(f, argnum);
  return <B extends A>(...args: B) => vg(...args)[1];
}

/**
 * `vjp(f, ...primals)` evaluates `f` and returns `[value, pullback]`, where `pullback(u)`
 * gives, for each primal, the vector-Jacobian product `uᵀ J` (shaped like that primal). When
 * `f` returns arrays or plain objects of values, `u` has that structure.
 *
 * @example
 * ```ts
 * import { Matrix, mul, vjp } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const [y, pullback] = vjp((a, b) => mul(a, b), Matrix.from([[1, 2]]), 3);
 * assert.deepEqual((y as Matrix).toArray(), [[3, 6]]);
 * const [da, db] = pullback(Matrix.from([[1, 1]]));
 * assert.deepEqual([(da as Matrix).toArray(), db], [[[3, 3]], 3]);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function vjp<A extends any[], R extends Tree>(
  f: (...args: A) => R,
  ...primals: A
): [Grad<R>, (cotangent: Tree) => { [K in keyof A]: Grad<A[K]> }] {
  const [value, pullback] = makeVjp(f, primals, "vjp");
  const pull = (u: Tree) => pullback(u) as { [K in keyof A]: Grad<A[K]> };
  return [value as Grad<R>, pull];
}

/**
 * `jvp(f, primals, tangents)` evaluates `f` at `primals` and, in the same forward pass, the
 * Jacobian-vector product `J · tangents`: returns `[value, tangent]`, the tangent with the
 * structure of the value (arrays and plain objects included, so `jvp(grad(f))` works).
 *
 * @example
 * ```ts
 * import { jvp, mul, type Tensor } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * // d/dt (x·y) along (dx, dy) = (1, 0) at (3, 4) is y = 4
 * assert.deepEqual(jvp((x: Tensor, y: Tensor) => mul(x, y), [3, 4], [1, 0]), [12, 4]);
 * // a list of outputs gives a list of tangents
 * assert.deepEqual(jvp((x: Tensor) => [mul(x, x), mul(3, x)], [2], [1]), [[4, 6], [4, 3]]);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function jvp<A extends any[], R extends Tree>(
  f: (...args: A) => R,
  primals: A,
  tangents: { [K in keyof A]: Grad<A[K]> | A[K] },
): [Grad<R>, Grad<R>] {
  if (!Array.isArray(primals) || !Array.isArray(tangents) || primals.length !== tangents.length) {
    throw new TypeError("jvp: primals and tangents must be arrays of the same length");
  }
  const trace = new Trace("forward", "jvp");
  const traced = primals.map((p, i) => {
    const [leaves, rebuild] = flatten(p, "jvp");
    const [tleaves] = flatten(tangents[i], "jvp");
    if (tleaves.length !== leaves.length) {
      throw new TypeError(`jvp: tangent ${i} does not have the structure of primal ${i}`);
    }
    return rebuild(leaves.map((leaf, j) => {
      if (!sameShape(leaf, tleaves[j])) {
        throw new TypeError(
          `jvp: a tangent of argument ${i} has shape ${formatShape(shapeOf(tleaves[j]))} but ` +
            `its primal has ${formatShape(shapeOf(leaf))}`,
        );
      }
      return traceTangent(trace, leaf, tleaves[j]);
    }));
  });
  const [outs, rebuild] = flatten(runTrace(trace, f, traced), "jvp", RESULT);
  const own = (t: Tensor): t is Traced => t instanceof Traced && t.trace === trace;
  const values = outs.map((t) => own(t) ? t.value : t);
  const tangentsOut = outs.map((t) => own(t) ? t.tangent! : zerosLike(t));
  return [rebuild(values) as Grad<R>, rebuild(tangentsOut) as Grad<R>];
}
