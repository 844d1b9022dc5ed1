// `definePrimitive`: the public way to add an op with its own forward, VJP and JVP rules (HIPS
// autograd's `primitive` + `defvjp`, JAX's `custom_vjp` / `custom_jvp`).

import { Matrix } from "../matrix.ts";
import {
  apply,
  describe,
  formatShape,
  type Primitive,
  sameShape,
  shapeOf,
  type Tensor,
  Traced,
  type Value,
} from "./tracer.ts";

/**
 * A user-defined primitive for {@linkcode definePrimitive}. The rules receive the node's
 * output `out` and its arguments `args` (traced when transforms nest) and must be written
 * with the public ops, so that they can themselves be differentiated (second order and up).
 */
export interface PrimitiveDefinition {
  /** The op's name, for error messages and `toDot` graphs. */
  name: string;
  /** Computes the output from plain values (numbers and matrices); no tracing happens here. */
  forward: (...args: Value[]) => Value;
  /**
   * One rule per argument: maps the output cotangent `g` (shaped like the output) to that
   * argument's cotangent (shaped like the argument, so undo any broadcasting). Its length
   * fixes the op's arity. `undefined` marks an argument that cannot be differentiated.
   */
  vjp: readonly (((g: Tensor, out: Tensor, args: Tensor[]) => Tensor) | undefined)[];
  /**
   * Maps the arguments' tangents (`undefined` for arguments not being differentiated) to
   * the output's tangent. Without it the op works in reverse mode only.
   */
  jvp?: (tangents: (Tensor | undefined)[], out: Tensor, args: Tensor[]) => Tensor;
}

/**
 * Defines a new primitive op from its forward computation and its derivative rules, and
 * returns a function usable like the built-in ops inside `grad`, `vjp`, `jvp`, `hessian`,
 * `toDot`... Check the rules with {@linkcode checkGrads}. The op's results and the rules'
 * shapes are checked, and errors name the op.
 *
 * @example A numerically stable logistic function, σ' = σ(1 − σ)
 * ```ts
 * import {
 *   checkGrads, definePrimitive, grad, Matrix, mul, sub, type Tensor, toDot,
 * } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const sigma = (x: number) => x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
 * const logistic = definePrimitive({
 *   name: "logistic",
 *   forward: (x) => typeof x === "number" ? sigma(x) : new Matrix(x.rows, x.cols, x.data.map(sigma)),
 *   vjp: [(g, out) => mul(g, mul(out, sub(1, out)))],
 *   jvp: ([t], out) => mul(t!, mul(out, sub(1, out))),
 * });
 * assert.equal(grad((x: Tensor) => logistic(x))(0), 0.25);
 * checkGrads(logistic, [Matrix.from([[-1, 0.5], [2, 30]])]); // first and second order
 * assert.ok(toDot(logistic, 1).includes('label="logistic scalar"'));
 * ```
 */
export function definePrimitive(definition: PrimitiveDefinition): (...args: Tensor[]) => Tensor {
  const { name, forward, vjp, jvp } = checkDefinition(definition);
  const arity = vjp.length;
  const primitive: Primitive<undefined> = {
    name,
    forward: (args) => checkValue(name, "forward", forward(...args)),
    vjp: vjp.map((rule, i) => (g, out, args) => {
      if (rule === undefined) {
        throw new TypeError(`${name}: argument ${i + 1} cannot be differentiated (no VJP rule)`);
      }
      return checkShape(name, `the VJP rule for argument ${i + 1}`, rule(g, out, args), args[i]);
    }),
    jvp: (tangents, out, args) => {
      if (jvp === undefined) {
        throw new TypeError(
          `${name}: this primitive has no JVP rule, so forward mode (jvp, jacfwd, hvp, hessian) ` +
            "cannot differentiate it; give definePrimitive a jvp",
        );
      }
      return checkShape(name, "the JVP rule", jvp(tangents, out, args), out);
    },
  };
  const op = (...args: Tensor[]): Tensor => {
    if (args.length !== arity) {
      throw new TypeError(`${name}: expected ${arity} argument(s), got ${args.length}`);
    }
    return apply(primitive, args, undefined);
  };
  Object.defineProperty(op, "name", { value: name });
  return op;
}

function checkDefinition(d: PrimitiveDefinition): PrimitiveDefinition {
  if (d === null || typeof d !== "object") {
    throw new TypeError(`definePrimitive: the definition is ${describe(d)}; expected an object`);
  }
  if (typeof d.name !== "string" || d.name === "") {
    throw new TypeError(
      `definePrimitive: name must be a non-empty string, got ${describe(d.name)}`,
    );
  }
  const where = `definePrimitive(${JSON.stringify(d.name)})`;
  if (typeof d.forward !== "function") {
    throw new TypeError(`${where}: forward must be a function, got ${describe(d.forward)}`);
  }
  if (!Array.isArray(d.vjp) || d.vjp.length === 0) {
    throw new TypeError(
      `${where}: vjp must be a non-empty array of rules, one per argument, got ${describe(d.vjp)}`,
    );
  }
  d.vjp.forEach((rule, i) => {
    if (rule !== undefined && typeof rule !== "function") {
      throw new TypeError(
        `${where}: vjp[${i}] must be a function or undefined, got ${describe(rule)}`,
      );
    }
  });
  if (d.jvp !== undefined && typeof d.jvp !== "function") {
    throw new TypeError(`${where}: jvp must be a function, got ${describe(d.jvp)}`);
  }
  return d;
}

function checkValue(name: string, what: string, v: unknown): Value {
  if (typeof v === "number" || v instanceof Matrix) return v;
  throw new TypeError(`${name}: ${what} returned ${describe(v)}; expected a number or a Matrix`);
}

/** A rule's result, checked to be a tensor shaped like `like`. */
function checkShape(name: string, what: string, t: unknown, like: Tensor): Tensor {
  if (typeof t !== "number" && !(t instanceof Matrix) && !(t instanceof Traced)) {
    throw new TypeError(`${name}: ${what} returned ${describe(t)}; expected a tensor`);
  }
  if (!sameShape(t, like)) {
    throw new TypeError(
      `${name}: ${what} returned a value of shape ${formatShape(shapeOf(t))}, ` +
        `expected ${formatShape(shapeOf(like))}`,
    );
  }
  return t;
}
