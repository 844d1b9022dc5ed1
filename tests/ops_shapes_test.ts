// The shapes-and-selection ops (reshape, slice, gatherRows, concat, stopGradient) and the
// matrix constructors (eye, ones, randomNormal, randomUniform): values, gradients, errors.

import assert from "node:assert/strict";
import {
  concat,
  createRng,
  gatherRows,
  grad,
  jvp,
  Matrix,
  mul,
  reshape,
  slice,
  stopGradient,
  sum,
  type Tensor,
  toDot,
  vjp,
} from "../mod.ts";

const A = Matrix.from([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);
const rows = (t: Tensor) => (t as Matrix).toArray();

function error(f: () => unknown, kind: typeof Error, pattern: RegExp) {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof kind, String(e));
    assert.match((e as Error).message, pattern);
    return true;
  });
}

Deno.test("reshape keeps row-major order and infers one -1 dimension", () => {
  assert.deepEqual(rows(reshape(A, [2, 6])), [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]);
  assert.deepEqual(rows(reshape(A, [-1, 4])), [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]);
  assert.deepEqual(rows(reshape(5, [1, 1])), [[5]]);
  assert.deepEqual((reshape(Matrix.zeros(0, 3), [3, 0]) as Matrix).shape, [3, 0]);
  error(
    () => reshape(A, [5, 2]),
    TypeError,
    /^reshape: cannot reshape 4x3 \(12 elements\) to \[5, 2\]$/,
  );
  error(() => reshape(A, [-1, 5]), TypeError, /^reshape: cannot reshape 4x3/);
  error(() => reshape(A, [-1, -1]), RangeError, /^reshape: dimensions must be/);
  error(() => reshape(A, [1.5, 8]), RangeError, /^reshape: dimensions must be/);
});

Deno.test("slice selects half-open blocks, empty ones included", () => {
  assert.deepEqual(rows(slice(A, { rows: [1, 3], cols: [1, 3] })), [[5, 6], [8, 9]]);
  assert.deepEqual(rows(slice(A, { rows: [3, 4] })), [[10, 11, 12]]);
  assert.deepEqual(rows(slice(A, { cols: [0, 1] })), [[1], [4], [7], [10]]);
  assert.deepEqual((slice(A, { rows: [2, 2] }) as Matrix).shape, [0, 3]);
  assert.deepEqual((slice(A, { cols: [3, 3] }) as Matrix).shape, [4, 0]);
  assert.equal(slice(A, {}), A); // the whole matrix: nothing to copy
  // Its gradient puts the cotangent back in place, zeros elsewhere.
  const g = grad((x: Tensor) => sum(slice(x, { rows: [1, 2], cols: [0, 2] })))(A);
  assert.deepEqual(rows(g), [[0, 0, 0], [1, 1, 0], [0, 0, 0], [0, 0, 0]]);
});

Deno.test("slice rejects out-of-range bounds, naming the op, the bounds and the shape", () => {
  error(
    () => slice(A, { rows: [2, 5] }),
    RangeError,
    /^slice: rows \[2,5\] is out of range for a 4x3 matrix; need integers 0 <= start <= end <= 4$/,
  );
  error(() => slice(A, { cols: [2, 1] }), RangeError, /^slice: cols \[2,1\] .* 4x3 .* <= 3$/);
  error(() => slice(A, { cols: [-1, 2] }), RangeError, /^slice: cols \[-1,2\]/);
  error(() => slice(A, { rows: [0.5, 2] }), RangeError, /^slice: rows/);
});

Deno.test("gatherRows picks rows in order and its gradient scatter-adds repeats", () => {
  assert.deepEqual(rows(gatherRows(A, [3, 0, 3])), [[10, 11, 12], [1, 2, 3], [10, 11, 12]]);
  assert.deepEqual(rows(gatherRows(A, new Int32Array([1]))), [[4, 5, 6]]);
  assert.deepEqual((gatherRows(A, []) as Matrix).shape, [0, 3]);
  const weights = Matrix.from([[1, 1, 1], [10, 10, 10], [100, 100, 100], [1000, 1000, 1000]]);
  const [, pull] = vjp((x: Tensor) => gatherRows(x, [3, 0, 3, 3]), A);
  assert.deepEqual(rows((pull(weights) as Matrix[])[0]), [[10, 10, 10], [0, 0, 0], [0, 0, 0], [
    1101,
    1101,
    1101,
  ]]);
  // The tangent is gathered the same way.
  const [, t] = jvp((x: Tensor) => gatherRows(x, [2, 2]), [A], [weights]);
  assert.deepEqual(rows(t as Matrix), [[100, 100, 100], [100, 100, 100]]);
  error(
    () => gatherRows(A, [0, 4]),
    RangeError,
    /^gatherRows: index 4 at position 1 is out of range for a 4x3 matrix; need integers 0 <= index < 4$/,
  );
  error(() => gatherRows(A, [-1]), RangeError, /^gatherRows: index -1 at position 0/);
  error(() => gatherRows(A, [1.5]), RangeError, /^gatherRows: index 1.5/);
  error(() => gatherRows(A, 3 as never), TypeError, /^gatherRows: indices must be an array/);
});

Deno.test("concat joins along either axis and checks the other dimension", () => {
  const a = Matrix.from([[1, 2]]), b = Matrix.from([[3, 4], [5, 6]]);
  assert.deepEqual(rows(concat([a, b])), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(rows(concat([b, Matrix.from([[7], [8]])], { axis: 1 })), [[3, 4, 7], [5, 6, 8]]);
  assert.deepEqual(rows(concat([1, 2, 3], { axis: 1 })), [[1, 2, 3]]);
  assert.deepEqual(rows(concat([a, Matrix.zeros(0, 2)])), [[1, 2]]);
  assert.equal(concat([a]), a);
  // Each piece gets its own block of the cotangent.
  const [, pull] = vjp((x: Tensor, y: Tensor) => concat([x, y, x]), a, b);
  const [ga, gb] = pull(Matrix.from([[1, 2], [3, 4], [5, 6], [7, 8]])) as Matrix[];
  assert.deepEqual(ga.toArray(), [[8, 10]]);
  assert.deepEqual(gb.toArray(), [[3, 4], [5, 6]]);
  // A list longer than any before still has a rule per argument.
  const many = Array.from({ length: 40 }, (_, i) => i);
  const g = grad((...xs: Tensor[]) => sum(mul(concat(xs), concat(xs))), 39)(...many);
  assert.equal(g, 78);
  error(
    () => concat([a, Matrix.zeros(1, 3)]),
    TypeError,
    /^concat: along axis 0 every matrix needs 2 columns \(as the first, 1x2\), but matrix 1 is 1x3$/,
  );
  error(
    () => concat([a, b], { axis: 1 }),
    TypeError,
    /^concat: along axis 1 every matrix needs 1 rows/,
  );
  error(
    () => concat([]),
    TypeError,
    /^concat: expected a non-empty array of matrices, got an empty array$/,
  );
  error(
    () => concat([a], { axis: 2 as never }),
    RangeError,
    /^concat: axis must be 0 or 1, got 2$/,
  );
  error(() => concat([a, "x" as never]), TypeError, /^concat: argument 2 is a string/);
});

Deno.test("stopGradient passes the value and has a zero derivative in every mode and order", () => {
  const f = (x: Tensor) => mul(x, mul(stopGradient(x), stopGradient(x))); // x · c², c = x
  assert.equal(f(3), 27);
  assert.equal(grad(f)(3), 9); // c², not 3x²
  assert.equal(grad(grad(f))(3), 0);
  assert.deepEqual(jvp(f, [3], [1]), [27, 9]);
  assert.deepEqual(jvp(grad(f), [3], [1]), [9, 0]);
  assert.deepEqual(
    rows(grad((x: Tensor) => sum(stopGradient(x)))(A)),
    Matrix.zeros(4, 3).toArray(),
  );
  assert.equal(stopGradient(A), A);
  assert.match(toDot((x: Tensor) => mul(x, stopGradient(x)), 2), /stopGradient/);
  error(() => stopGradient(null as never), TypeError, /^stopGradient: argument 1 is null/);
});

Deno.test("Matrix.eye and Matrix.ones", () => {
  assert.deepEqual(Matrix.eye(3).toArray(), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.deepEqual(Matrix.eye(0).shape, [0, 0]);
  assert.deepEqual(Matrix.ones(2, 1).toArray(), [[1], [1]]);
  assert.ok(
    Matrix.eye(2, { shared: true }).isShared && Matrix.ones(1, 1, { shared: true }).isShared,
  );
  error(() => Matrix.eye(-1), RangeError, /^Matrix: rows must be a non-negative integer, got -1$/);
});

Deno.test("random matrices draw from the generator in row-major order", () => {
  const rng = createRng(7);
  const expected = Array.from({ length: 6 }, () => 2 + 0.5 * rng.normal());
  const m = Matrix.randomNormal(2, 3, createRng(7), { mean: 2, std: 0.5 });
  assert.deepEqual(Array.from(m.data), expected);
  const r2 = createRng(7);
  const u = Array.from({ length: 6 }, () => -1 + 3 * r2.next());
  assert.deepEqual(
    Array.from(Matrix.randomUniform(3, 2, createRng(7), { low: -1, high: 2 }).data),
    u,
  );
  // Defaults: standard normal and uniform on [0, 1); sample moments of many draws.
  const big = Matrix.randomNormal(200, 100, createRng(1));
  const mean = big.data.reduce((s, x) => s + x, 0) / big.data.length;
  const variance = big.data.reduce((s, x) => s + (x - mean) ** 2, 0) / big.data.length;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `${mean} ${variance}`);
  const unit = Matrix.randomUniform(100, 100, createRng(2), { shared: true });
  assert.ok(unit.isShared && unit.data.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(unit.data.reduce((s, x) => s + x, 0) / 1e4 - 0.5) < 0.02);
  // Any generator with the one method needed will do.
  assert.deepEqual(Matrix.randomUniform(1, 2, { next: () => 0.5 }).toArray(), [[0.5, 0.5]]);
  error(
    () => Matrix.randomNormal(1, 1, createRng(0), { std: -1 }),
    RangeError,
    /^Matrix\.randomNormal: std must be finite and >= 0, got -1$/,
  );
  error(
    () => Matrix.randomUniform(1, 1, createRng(0), { low: 1, high: 0 }),
    RangeError,
    /^Matrix\.randomUniform: needs finite low <= high, got low 1 and high 0$/,
  );
});
