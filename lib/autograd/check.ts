// `checkGrads`: reverse and forward mode compared with central differences, entry by entry, to
// first or second order (HIPS autograd's `check_grads`), for checking new primitives.

import { Matrix } from "../matrix.ts";
import { createRng, type Rng } from "../random.ts";
import { flatten, jvp, vjp } from "./transforms.ts";
import { describe, Traced, type Value } from "./tracer.ts";

/** Options of {@linkcode checkGrads}. */
export interface CheckGradsOptions {
  /** 1 checks first derivatives; 2 (default, as HIPS) also the derivatives of both rules. */
  order?: 1 | 2;
  /** The central-difference step (default 1e-6). */
  eps?: number;
  /** Relative tolerance (default 1e-5): pass when |ad − fd| ≤ atol + rtol·|fd|. */
  rtol?: number;
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Which modes to check: `"rev"` (VJP) and `"fwd"` (JVP); both by default. */
  modes?: readonly ("rev" | "fwd")[];
}

// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => unknown;
type Settings = Required<CheckGradsOptions>;

const looseVjp = vjp as unknown as (f: Fn, ...p: unknown[]) => [unknown, (u: unknown) => unknown];
const looseJvp = jvp as unknown as (f: Fn, p: unknown[], t: unknown[]) => [unknown, unknown];

/**
 * Checks the derivatives of `f` at `args` (numbers, matrices or trees of them) against
 * central differences, for every entry of every argument: reverse mode as `uᵀJ` for a seeded
 * random cotangent `u`, forward mode as `J·e` for each unit tangent `e`. With `order: 2`
 * (the default) it then checks the derivatives of the VJP and of the JVP the same way
 * (reverse-over-reverse, forward-over-reverse, reverse-over-forward, forward-over-forward).
 * Returns nothing when all agree; throws an Error naming the derivative, the argument, the
 * entry (row, col) and both values when one does not. `f` may return a tree of values.
 *
 * @example A wrong rule is caught
 * ```ts
 * import { checkGrads, definePrimitive, exp, mul, tanh, type Tensor } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * checkGrads((x: Tensor, y: Tensor) => tanh(mul(x, exp(y))), [0.3, -0.2]);
 * const badSquare = definePrimitive({
 *   name: "badSquare",
 *   forward: (x) => mul(x, x) as number,
 *   vjp: [(g, _, [x]) => mul(g, x)], // should be 2·g·x
 *   jvp: ([t], _, [x]) => mul(2, mul(t!, x)),
 * });
 * assert.throws(() => checkGrads(badSquare, [3]), /VJP.*argument 1.*gives 3, central differences give 6/);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function checkGrads<A extends any[]>(
  f: (...args: A) => unknown,
  args: A,
  options: CheckGradsOptions = {},
): void {
  if (typeof f !== "function") {
    throw new TypeError(`checkGrads: f must be a function, got ${describe(f)}`);
  }
  if (!Array.isArray(args) || args.length === 0) {
    throw new TypeError(
      `checkGrads: args must be a non-empty array of f's arguments, got ${describe(args)}`,
    );
  }
  const settings = checkOptions(options);
  const rng = createRng(0);
  checkFirstOrder(f as Fn, [...args], settings, "", rng);
  if (settings.order === 1) return;
  if (settings.modes.includes("rev")) {
    const y = f(...args), u = typeof y === "number" ? 1 : randomLike(y, rng);
    const pull = (...a: unknown[]) => looseVjp(f as Fn, ...a)[1](u);
    checkFirstOrder(pull, [...args], settings, " of the VJP", rng);
  }
  if (settings.modes.includes("fwd")) {
    const v = args.map((a) => randomLike(a, rng));
    const push = (...a: unknown[]) => looseJvp(f as Fn, a, v)[1];
    checkFirstOrder(push, [...args], settings, " of the JVP", rng);
  }
}

function checkOptions(options: CheckGradsOptions): Settings {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`checkGrads: options must be an object, got ${describe(options)}`);
  }
  const { order = 2, eps = 1e-6, rtol = 1e-5, atol = 1e-6, modes = ["rev", "fwd"] } = options;
  if (order !== 1 && order !== 2) {
    throw new RangeError(`checkGrads: order must be 1 or 2, got ${String(order)}`);
  }
  for (const [name, value] of [["eps", eps], ["rtol", rtol], ["atol", atol]] as const) {
    if (
      typeof value !== "number" || !Number.isFinite(value) || value < 0 ||
      (name === "eps" && value === 0)
    ) {
      throw new RangeError(
        `checkGrads: ${name} must be a finite number ${name === "eps" ? "> 0" : ">= 0"}, got ${
          String(value)
        }`,
      );
    }
  }
  if (
    !Array.isArray(modes) || modes.length === 0 || !modes.every((m) => m === "rev" || m === "fwd")
  ) {
    throw new RangeError(
      `checkGrads: modes must be a non-empty array of "rev" and "fwd", got ${
        JSON.stringify(modes)
      }`,
    );
  }
  return { order, eps, rtol, atol, modes };
}

/** The plain leaves of a tree with their paths; traced leaves are refused. */
function leavesOf(tree: unknown, root: string): [Value[], (leaves: Value[]) => unknown, string[]] {
  const [leaves, rebuild, paths] = flatten(tree, "checkGrads", root);
  leaves.forEach((leaf, i) => {
    if (leaf instanceof Traced) {
      throw new TypeError(
        `checkGrads: ${paths[i]} is a traced value; call checkGrads on plain values, outside ` +
          "other transforms",
      );
    }
  });
  return [leaves as Value[], rebuild as (leaves: Value[]) => unknown, paths];
}

function numbers(tree: unknown): number[] {
  return leavesOf(tree, "the result")[0].flatMap((v) => typeof v === "number" ? [v] : [...v.data]);
}

/** A tree like `tree` with seeded normal entries. */
function randomLike(tree: unknown, rng: Rng): unknown {
  const [leaves, rebuild] = leavesOf(tree, "the result");
  return rebuild(leaves.map((leaf) => {
    return typeof leaf === "number" ? rng.normal() : Matrix.randomNormal(leaf.rows, leaf.cols, rng);
  }));
}

/** The arguments as one list of leaves, and the arguments rebuilt from such a list. */
function argumentLeaves(args: unknown[]) {
  const parts = args.map((a, i) => leavesOf(a, `argument ${i + 1}`));
  const leaves = parts.flatMap((p) => p[0]), paths = parts.flatMap((p) => p[2]);
  const rebuild = (values: Value[]) => {
    let at = 0;
    return parts.map(([own, build]) => build(values.slice(at, at += own.length)));
  };
  return { leaves, paths, rebuild };
}

/**
 * `leaves` with `delta` added to element `k` of leaf `j`; with `zero`, a tangent: zeros shaped
 * like `leaves` but `delta` there.
 */
function withEntry(leaves: Value[], j: number, k: number, delta: number, zero = false): Value[] {
  return leaves.map((leaf, i) => {
    const base = zero ? (typeof leaf === "number" ? 0 : Matrix.zeros(leaf.rows, leaf.cols)) : leaf;
    if (i !== j) return base;
    if (typeof base === "number") return base + delta;
    const m = zero ? base : base.clone();
    m.data[k] += delta;
    return m;
  });
}

/** Checks `f`'s VJP and JVP at `args` against central differences, entry by entry. */
function checkFirstOrder(f: Fn, args: unknown[], s: Settings, of: string, rng: Rng): void {
  const { leaves, paths, rebuild } = argumentLeaves(args);
  const y = f(...args);
  // A scalar output is pulled back with 1, so the message shows the gradient itself.
  const u = typeof y === "number" ? 1 : randomLike(y, rng), uFlat = numbers(u);
  const outPaths = outputEntries(y);
  const rev = s.modes.includes("rev")
    ? argumentLeaves(looseVjp(f, ...args)[1](u) as unknown[]).leaves
    : undefined;
  leaves.forEach((leaf, j) => {
    for (let k = 0; k < (typeof leaf === "number" ? 1 : leaf.data.length); k++) {
      const plus = numbers(f(...rebuild(withEntry(leaves, j, k, s.eps))));
      const minus = numbers(f(...rebuild(withEntry(leaves, j, k, -s.eps))));
      const fd = plus.map((p, i) => (p - minus[i]) / (2 * s.eps));
      const where = `${paths[j]}${entry(leaf, k)}`;
      if (rev !== undefined) {
        const r = rev[j], ad = typeof r === "number" ? r : r.data[k];
        compare(
          s,
          `the VJP${of} (reverse mode${uFlat.length > 1 ? ", uᵀJ for a random u" : ""})`,
          where,
          ad,
          dot(uFlat, fd),
        );
      }
      if (s.modes.includes("fwd")) {
        const t = numbers(looseJvp(f, args, rebuild(withEntry(leaves, j, k, 1, true)))[1]);
        fd.forEach((d, i) =>
          compare(s, `the JVP${of} (forward mode)`, where + outPaths[i], t[i], d)
        );
      }
    }
  });
}

/** For each element of the output, how to name it after the argument's entry. */
function outputEntries(y: unknown): string[] {
  const [leaves, , paths] = leavesOf(y, "result");
  if (leaves.length === 1 && typeof leaves[0] === "number") return [""];
  return leaves.flatMap((leaf, i) => {
    const name = leaves.length === 1 ? "output" : `output ${paths[i]}`;
    const count = typeof leaf === "number" ? 1 : leaf.data.length;
    return Array.from({ length: count }, (_, k) => `, ${name}${entry(leaf, k)}`);
  });
}

function entry(leaf: Value, k: number): string {
  return typeof leaf === "number"
    ? ""
    : ` at entry (${Math.floor(k / leaf.cols)}, ${k % leaf.cols})`;
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function compare(s: Settings, what: string, where: string, ad: number, fd: number): void {
  const tol = s.atol + s.rtol * Math.abs(fd);
  if (Math.abs(ad - fd) <= tol) return;
  throw new Error(
    `checkGrads: ${what} disagrees with central differences for ${where}: it gives ${ad}, ` +
      `central differences give ${fd} (tolerance ${Number(tol.toPrecision(3))}; eps ${s.eps})`,
  );
}
