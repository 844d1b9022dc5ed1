// The finite-difference harness behind the primitive table test: case builders, seeded inputs,
// and the first- and second-order checks every primitive must pass.

import assert from "node:assert/strict";
import {
  createRng,
  jvp,
  Matrix,
  mul,
  type Rng,
  sum,
  type Tensor,
  type Value,
  vjp,
} from "../mod.ts";
import type { PrimitiveName } from "../lib/autograd/ops.ts";

/** An argument's shape in a case; `"scalar"` is a plain number. */
export type Shape = [number, number] | "scalar";

/** One row of the table: a function of some arguments and the primitives it exercises. */
export interface Case {
  name: string;
  covers: PrimitiveName[];
  f: (...args: Tensor[]) => Tensor;
  shapes: Shape[];
  /** Draw inputs from (0.5, 1.5) instead of a standard normal (for log, pow, division). */
  positive?: boolean;
  /** Custom inputs (e.g. a positive-definite matrix); overrides `shapes`' random draws. */
  inputs?: (rng: Rng) => Value[];
  /** Skip the second-order check (a primitive whose derivative is not differentiable). */
  firstOrderOnly?: boolean;
  /** Relative tolerance of the first-order check (default 1e-6; second order uses 10×). */
  tol?: number;
}

/** A unary op on a 3x2 matrix and on a number. */
export const unaryCases = (
  name: string,
  covers: PrimitiveName[],
  f: (a: Tensor) => Tensor,
  positive = false,
): Case[] => [
  { name: `${name} of a matrix`, covers, f, shapes: [[3, 2]], positive },
  { name: `${name} of a number`, covers, f, shapes: ["scalar"], positive },
];

/** A broadcasting binary op over every supported shape pairing. */
export const binaryCases = (
  name: string,
  covers: PrimitiveName[],
  f: (a: Tensor, b: Tensor) => Tensor,
  positive = false,
): Case[] =>
  ([
    [[2, 3], [2, 3]],
    [[2, 3], [2, 1]],
    [[1, 3], [2, 3]],
    [[2, 3], [1, 1]],
    [[2, 1], [1, 3]],
    [[2, 3], "scalar"],
    ["scalar", [2, 3]],
    ["scalar", "scalar"],
  ] as Shape[][]).map((shapes) => ({
    name: `${name} of ${shapes.map(fmtShape).join(" and ")}`,
    covers,
    f,
    shapes,
    positive,
  }));

export function fmtShape(s: Shape): string {
  return s === "scalar" ? "a number" : `${s[0]}x${s[1]}`;
}

/** A seeded value of `shape`: standard normal, or uniform on (0.5, 1.5) when `positive`. */
export function random(shape: Shape, rng: Rng, positive = false): Value {
  const draw = () => positive ? 0.5 + rng.next() : rng.normal();
  if (shape === "scalar") return draw();
  const m = Matrix.zeros(shape[0], shape[1]);
  for (let i = 0; i < m.data.length; i++) m.data[i] = draw();
  return m;
}

/** Elements of a plain value as an array. */
export function flat(v: Value): number[] {
  return typeof v === "number" ? [v] : Array.from(v.data);
}

export function shapeOfValue(v: Value): Shape {
  return typeof v === "number" ? "scalar" : [v.rows, v.cols];
}

/** `x + s·d` element-wise. */
function axpy(x: Value, s: number, d: Value): Value {
  if (typeof x === "number") return x + s * (d as number);
  const out = x.clone();
  const dd = (d as Matrix).data;
  for (let i = 0; i < out.data.length; i++) out.data[i] += s * dd[i];
  return out;
}

function inner(a: Value, b: Value): number {
  const x = flat(a), y = flat(b);
  assert.equal(x.length, y.length);
  return x.reduce((s, v, i) => s + v * y[i], 0);
}

function matrixLike(like: Value, values: number[]): Value {
  if (typeof like === "number") return values[0];
  return new Matrix(like.rows, like.cols, Float64Array.from(values));
}

/** Central difference of `f` (a list of outputs) along `dirs` (one per argument). */
function directional(f: (...a: Value[]) => Value[], args: Value[], dirs: Value[], eps: number) {
  const plus = f(...args.map((a, i) => axpy(a, eps, dirs[i])));
  const minus = f(...args.map((a, i) => axpy(a, -eps, dirs[i])));
  return plus.map((p, j) =>
    matrixLike(p, flat(p).map((x, k) => (x - flat(minus[j])[k]) / (2 * eps)))
  );
}

/** The unit direction of element `k` of argument `i`. */
function unit(args: Value[], i: number, k: number): Value[] {
  return args.map((a, j) => {
    const d = axpy(a, -1, a); // zeros of the same shape
    if (j !== i) return d;
    if (typeof d === "number") return 1;
    d.data[k] = 1;
    return d;
  });
}

/** Asserts `actual` is within `tol` of `expected`, relative to max(1, |expected|). */
export function assertClose(actual: number[], expected: number[], what: string, tol = 1e-6) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    assert.ok(err < tol, `${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/**
 * Checks a function of values returning a list of values: its VJP against central differences
 * element by element, its JVP along `v`, and `<u, Jv> = <uᵀJ, v>`.
 */
function checkFirstOrder(
  name: string,
  f: (...a: Value[]) => Value[],
  args: Value[],
  rng: Rng,
  tol: number,
): void {
  const [values, pullback] = vjp((...a: Tensor[]) => f(...(a as Value[])), ...args);
  const u = (values as Value[]).map((x) => random(shapeOfValue(x), rng));
  const cotangents = pullback(u) as Value[];
  const eps = 1e-6;
  for (let i = 0; i < args.length; i++) {
    const fd = flat(args[i]).map((_, k) => {
      const d = directional(f, args, unit(args, i, k), eps);
      return d.reduce((s: number, dj, j) => s + inner(u[j], dj), 0);
    });
    assertClose(flat(cotangents[i]), fd, `${name}: VJP of argument ${i}`, tol);
  }
  const v = args.map((a) => random(shapeOfValue(a), rng));
  const [jvpValues, tangents] = jvp((...a: Tensor[]) => f(...(a as Value[])), args, v);
  assert.deepEqual((jvpValues as Value[]).map(flat), (values as Value[]).map(flat));
  const fd = directional(f, args, v, eps);
  (tangents as Value[]).forEach((t, j) => assertClose(flat(t), flat(fd[j]), `${name}: JVP`, tol));
  const viaJvp = (tangents as Value[]).reduce((s: number, t, j) => s + inner(u[j], t), 0);
  const viaVjp = cotangents.reduce((s: number, g, i) => s + inner(g, v[i]), 0);
  assertClose([viaJvp], [viaVjp], `${name}: <u, Jv> both ways`, 1e-10);
}

/** Checks case `c` (drawn with seed `seed`) to first order and, unless marked, second order. */
export function checkCase(c: Case, seed: number): void {
  const rng = createRng(seed);
  const args = c.inputs ? c.inputs(rng) : c.shapes.map((s) => random(s, rng, c.positive));
  const tol = c.tol ?? 1e-6;
  checkFirstOrder(c.name, (...a) => [c.f(...a) as Value], args, rng, tol);
  if (c.firstOrderOnly) return;
  // Second order: the gradient of <w, f> is itself a function of the arguments; its VJP and
  // JVP (reverse-over-reverse and forward-over-reverse) are the Hessian's products.
  const w = random(shapeOfValue(c.f(...args) as Value), rng);
  const gradient = (...a: Tensor[]) => {
    const [, pull] = vjp((...b: Tensor[]) => sum(mul(w, c.f(...b))), ...a);
    return pull(1) as Tensor[];
  };
  checkFirstOrder(`${c.name} (second order)`, gradient as never, args, rng, tol * 10);
}
