// The tracing engine: boxes that wrap values during a transform, the primitive contract,
// `apply` (the one place a primitive runs), and the reverse and forward passes.

import { Matrix } from "../matrix.ts";

/** A plain value: a number (a scalar) or a matrix. */
export type Value = Matrix | number;

/** What the ops accept and return: a plain value, or one being traced by a transform. */
export type Tensor = Value | Traced;

/**
 * A primitive operation: its forward kernel beside its derivative rules. `vjp[i]` maps the
 * output cotangent `g` to the cotangent of argument `i`; `jvp` maps argument tangents
 * (`undefined` for arguments that are not being differentiated) to the output tangent.
 * Rules are written with the public ops, so they can themselves be differentiated.
 */
export interface Primitive<P = undefined> {
  readonly name: string;
  forward(args: Value[], params: P): Value;
  vjp: readonly ((g: Tensor, out: Tensor, args: Tensor[], params: P) => Tensor)[];
  jvp(tangents: (Tensor | undefined)[], out: Tensor, args: Tensor[], params: P): Tensor;
  /** The parameters that change what the op computes, for graph labels (e.g. `" ^2"`). */
  label?(params: P): string;
}

let traceCount = 0;

/** One transform in progress; nested transforms have increasing ids. */
export class Trace {
  readonly id: number = ++traceCount;
  /**
   * Reverse mode (and `jit`, which records the same way) keeps every node in creation order,
   * which is a topological order.
   */
  readonly tape: Node[] = [];
  /** Set once the traced function has returned: its boxes must not reach an op again. */
  finished = false;
  constructor(
    /** "jit" records like "reverse", for lib/autograd/jit.ts to compile into a plan. */
    readonly mode: "reverse" | "forward" | "jit",
    /** The transform's name, for messages. */
    readonly transform: string,
  ) {}
}

/** A recorded primitive application (reverse mode). Leaves have no primitive. */
export class Node {
  /** Position on its trace's tape. */
  readonly index: number;
  constructor(
    trace: Trace,
    // deno-lint-ignore no-explicit-any
    readonly primitive: Primitive<any> | undefined,
    readonly args: Tensor[],
    readonly out: Tensor,
    readonly params: unknown,
    readonly parents: (Node | undefined)[],
  ) {
    this.index = trace.tape.length;
    trace.tape.push(this);
  }
}

/**
 * A value being traced by `grad`, `vjp` or `jvp`. Functions you differentiate receive these
 * in place of their arguments; pass them to the ops as you would a matrix or number.
 *
 * @example
 * ```ts
 * import { grad, mul, Traced, type Tensor } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * let seen: unknown;
 * grad((x: Tensor) => { seen = x; return mul(x, x); })(3);
 * assert.ok(seen instanceof Traced);
 * ```
 */
export class Traced {
  /** @internal */
  constructor(
    /** The value being traced (itself traced when transforms nest). */
    readonly value: Tensor,
    /** @internal */
    readonly trace: Trace,
    /** @internal */
    readonly node?: Node,
    /** @internal */
    readonly tangent?: Tensor,
  ) {}

  /**
   * The traced value's shape: `[rows, cols]`, or `undefined` for a scalar number.
   *
   * @example
   * ```ts
   * import { grad, Matrix, sum, type Tensor } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * grad((x: Tensor) => {
   *   assert.deepEqual((x as { shape?: unknown }).shape, [1, 2]);
   *   return sum(x);
   * })(Matrix.from([[1, 2]]));
   * ```
   */
  get shape(): [number, number] | undefined {
    return shapeOf(this.value);
  }

  /** A short description, e.g. `Traced(Matrix(2x3))`. */
  toString(): string {
    return `Traced(${String(this.value)})`;
  }

  /**
   * Refuses to become a JS number: arithmetic or a comparison on a traced value (`x > 0`,
   * `x * 2`) would silently drop its derivative, and under `jit` would bake one trace's
   * branch into the plan. A `TypeError` says what to do instead; string conversion still
   * works. (`if (x)` cannot be caught: every object is truthy in JS.)
   *
   * @example
   * ```ts
   * import { grad, type Tensor } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * assert.throws(() => grad((x: Tensor) => (x as unknown as number) > 0 ? x : 0)(1), TypeError);
   * ```
   */
  [Symbol.toPrimitive](hint: string): string {
    if (hint === "string") return this.toString();
    throw coercionError(this);
  }
}

/** The TypeError for a traced value used as a JS number or boolean, naming the transform. */
function coercionError(box: Traced): TypeError {
  let t: Tensor = box, jitted = false;
  while (t instanceof Traced) (jitted ||= t.trace.mode === "jit", t = t.value);
  if (jitted) {
    return new TypeError(
      "jit: a traced value was used as a JS number or boolean (in arithmetic or a comparison); " +
        "jit traces the function once per input shapes, so traced values cannot steer JS " +
        "control flow: compute with the ops (add, mul, ...), pass the decision as a plain " +
        "argument to a function that is not jitted, or call the function without jit",
    );
  }
  return new TypeError(
    `${box.trace.transform}: a traced value was used as a JS number or boolean (in arithmetic ` +
      "or a comparison), which would lose its derivative; compute with the ops (add, mul, " +
      "...) instead",
  );
}

/** The shape of a tensor: `[rows, cols]` for a matrix, `undefined` for a number. */
export function shapeOf(t: Tensor): [number, number] | undefined {
  while (t instanceof Traced) t = t.value;
  return t instanceof Matrix ? [t.rows, t.cols] : undefined;
}

/** A shape for messages: `"2x3"`, or `"scalar"` for a number. */
export function formatShape(shape: [number, number] | undefined): string {
  return shape === undefined ? "scalar" : `${shape[0]}x${shape[1]}`;
}

/** Whether two tensors have the same shape (two numbers do). */
export function sameShape(a: Tensor, b: Tensor): boolean {
  const x = shapeOf(a), y = shapeOf(b);
  return x?.[0] === y?.[0] && x?.[1] === y?.[1];
}

/** Strips every layer of tracing. */
export function valueOf(t: Tensor): Value {
  while (t instanceof Traced) t = t.value;
  return t;
}

/**
 * @internal What a value is, for messages: `"an Array"`, `"a string (\"x\")"`, `"null"`,
 * `"a Float64Array of length 3"`.
 */
export function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  const article = (name: string) => `${/^[aeiou]/i.test(name) ? "an" : "a"} ${name}`;
  if (typeof x === "string") return `a string (${JSON.stringify(x.slice(0, 20))})`;
  if (typeof x === "function") return "a function";
  if (typeof x !== "object") return `${article(typeof x)} (${String(x)})`;
  if (ArrayBuffer.isView(x)) {
    return `${article(x.constructor.name)} of length ${(x as Float64Array).length}`;
  }
  const proto = Object.getPrototypeOf(x);
  if (proto === Object.prototype || proto === null) return "a plain object";
  return article(x.constructor?.name ?? "object");
}

/** The TypeError for a value that is not a tensor, naming the op and what it got. */
function notATensor(op: string, i: number, x: unknown): TypeError {
  const hint = ArrayBuffer.isView(x)
    ? "wrap its data with new Matrix(rows, cols, data)"
    : "make a matrix from nested arrays with Matrix.from([[...]])";
  return new TypeError(
    `${op}: argument ${i + 1} is ${describe(x)}; expected a number, a Matrix or a traced ` +
      `value (${hint})`,
  );
}

/** @internal `x` if it is a tensor, else a `TypeError` naming `op` and what it got. */
export function checkTensor(op: string, x: unknown, i = 0): Tensor {
  if (typeof x === "number" || x instanceof Matrix) return x;
  if (x instanceof Traced) {
    if (x.trace.finished) throw escaped(op, i, x.trace);
    return x;
  }
  throw notATensor(op, i, x);
}

function escaped(op: string, i: number, trace: Trace): TypeError {
  return new TypeError(
    `${op}: argument ${i + 1} is a traced value that escaped a ${trace.transform} transform ` +
      "that has finished (an unexpected tracer); use what the transform returned, or do " +
      "this work inside the function being transformed",
  );
}

/** Runs a primitive, recording it on the innermost active trace among its arguments. */
export function apply<P>(primitive: Primitive<P>, args: Tensor[], params: P): Tensor {
  let top: Trace | undefined;
  // The one check per op of what it was given: a typeof and an instanceof, no deep walk.
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === "number" || a instanceof Matrix) continue;
    if (!(a instanceof Traced)) throw notATensor(primitive.name, i, a);
    if (a.trace.finished) throw escaped(primitive.name, i, a.trace);
    if (top === undefined || a.trace.id > top.id) top = a.trace;
  }
  if (top === undefined) return primitive.forward(args as Value[], params);
  // Unbox the arguments of the innermost trace once, with plain loops: this runs per op.
  const n = args.length;
  const inner: Tensor[] = new Array(n);
  const boxes: (Traced | undefined)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const a = args[i];
    const box = a instanceof Traced && a.trace === top ? a : undefined;
    boxes[i] = box;
    inner[i] = box === undefined ? a : box.value;
  }
  const out = apply(primitive, inner, params);
  if (top.mode !== "forward") {
    const parents: (Node | undefined)[] = new Array(n);
    for (let i = 0; i < n; i++) parents[i] = boxes[i]?.node;
    return new Traced(out, top, new Node(top, primitive, inner, out, params, parents));
  }
  const tangents: (Tensor | undefined)[] = new Array(n);
  for (let i = 0; i < n; i++) tangents[i] = boxes[i]?.tangent;
  return new Traced(out, top, undefined, primitive.jvp(tangents, out, inner, params));
}

/** Starts reverse-mode tracing of `x`: returns the traced leaf. */
export function traceLeaf(trace: Trace, x: Tensor): Traced {
  return new Traced(x, trace, new Node(trace, undefined, [], x, undefined, []));
}

/** Starts forward-mode tracing of `x` with tangent `t`. */
export function traceTangent(trace: Trace, x: Tensor, t: Tensor): Traced {
  return new Traced(x, trace, undefined, t);
}

/**
 * Walks the tape backwards from the output nodes `outs` with cotangents `gs` and returns the
 * cotangent of each requested leaf (`undefined` where no output depends on it). `accumulate`
 * adds two cotangents with the public `add`, so this pass can itself be traced.
 */
export function backward(
  trace: Trace,
  outs: readonly Node[],
  gs: readonly Tensor[],
  leaves: Node[],
  accumulate: (x: Tensor, y: Tensor) => Tensor,
): (Tensor | undefined)[] {
  // Cotangents by tape position: nodes are numbered in creation order (see `Node`).
  const tape = trace.tape;
  const cotangents: (Tensor | undefined)[] = new Array(tape.length);
  for (let i = 0; i < outs.length; i++) {
    const prev = cotangents[outs[i].index];
    cotangents[outs[i].index] = prev === undefined ? gs[i] : accumulate(prev, gs[i]);
  }
  for (let n = tape.length - 1; n >= 0; n--) {
    const node = tape[n];
    const primitive = node.primitive;
    const gOut = cotangents[n];
    if (primitive === undefined || gOut === undefined) continue;
    cotangents[n] = undefined; // free intermediate cotangents as soon as they are used
    for (let i = 0; i < node.parents.length; i++) {
      const parent = node.parents[i];
      if (parent === undefined) continue;
      const gIn = primitive.vjp[i](gOut, node.out, node.args, node.params);
      const prev = cotangents[parent.index];
      cotangents[parent.index] = prev === undefined ? gIn : accumulate(prev, gIn);
    }
  }
  return leaves.map((leaf) => cotangents[leaf.index]);
}
