// The linear-algebra ops against numpy (values recorded once with numpy.linalg), their
// gradients against closed forms, their error messages, and their use of scratch memory.

import assert from "node:assert/strict";
import {
  add,
  cholesky,
  concat,
  det,
  gatherRows,
  grad,
  inv,
  jvp,
  logdet,
  matmul,
  Matrix,
  reshape,
  slice,
  solve,
  solveTriangular,
  sum,
  type Tensor,
  transpose,
} from "../mod.ts";
import { padTo, scatterRows, withScratch } from "../lib/autograd/ops.ts";
import { assertClose } from "./_fd.ts";

// A symmetric positive-definite 4x4 and a non-symmetric 3x3 with det 4.
const A4 = Matrix.from([[4, 1, -2, 0.5], [1, 5, 0.3, -1], [-2, 0.3, 6, 2], [0.5, -1, 2, 7]]);
const N3 = Matrix.from([[2, -1, 3], [0.5, 4, -2], [1, 1, 1]]);
const B3 = Matrix.from([[1, 2], [-1, 0.5], [3, -2]]);
const b4 = Matrix.from([[1], [2], [3], [4]]);

// numpy.linalg results for the matrices above, printed with repr.
const NUMPY = {
  solveN3B3: [[-7.000000000000002, 8.500000000000004], [3.750000000000001, -4.125000000000001], [
    6.250000000000001,
    -6.375000000000002,
  ]],
  invN3: [[1.5000000000000002, 1.0000000000000002, -2.500000000000001], [
    -0.6250000000000001,
    -0.2500000000000001,
    1.3750000000000002,
  ], [-0.8750000000000001, -0.7500000000000001, 2.1250000000000004]],
  detN3: 3.999999999999999,
  solveA4b4: [[0.29050689780134126], [0.4156552042533546], [0.4119320297258253], [
    0.49236252798586194,
  ]],
  cholA4: [[2.0, 0.0, 0.0, 0.0], [0.5, 2.179449471770337, 0.0, 0.0], [
    -1.0,
    0.3670651741928988,
    2.205734153948462,
    0.0,
  ], [0.25, -0.5161854012087639, 1.105969039761047, 2.33407050336295]],
  detA4: 503.6024999999998,
  logdetA4: 6.221787266415217,
  invA4: [
    [0.36173370862932575, -0.09829180752676961, 0.15339479053420105, -0.08370689184426208],
    [
      -0.09829180752676962,
      0.2353046301398424,
      -0.06418752885460258,
      0.058975084516061774,
    ],
    [0.15339479053420108, -0.06418752885460259, 0.25168659806097066, -0.09203687432052064],
    [
      -0.08370689184426211,
      0.058975084516061774,
      -0.09203687432052066,
      0.1835574684398906,
    ],
  ],
  // det(N3) · inv(N3)ᵀ, the gradient of det at N3.
  gradDetN3: [[5.999999999999999, -2.5, -3.4999999999999996], [
    4.0,
    -1.0000000000000002,
    -2.9999999999999996,
  ], [
    -10.000000000000002,
    5.5,
    8.5,
  ]],
};

const TOL = 1e-12;
const close = (actual: Tensor, expected: number[][] | number, what: string) =>
  assertClose(
    typeof actual === "number" ? [actual] : Array.from((actual as Matrix).data),
    typeof expected === "number" ? [expected] : expected.flat(),
    what,
    TOL,
  );

Deno.test("solve, inv, det, logdet and cholesky match numpy on fixed matrices", () => {
  close(solve(N3, B3), NUMPY.solveN3B3, "solve(N3, B3)");
  close(inv(N3), NUMPY.invN3, "inv(N3)");
  close(det(N3), NUMPY.detN3, "det(N3)");
  close(solve(A4, b4), NUMPY.solveA4b4, "solve(A4, b4)");
  close(cholesky(A4), NUMPY.cholA4, "cholesky(A4)");
  close(det(A4), NUMPY.detA4, "det(A4)");
  close(logdet(A4), NUMPY.logdetA4, "logdet(A4)");
  close(inv(A4), NUMPY.invA4, "inv(A4)");
  // cholesky's upper triangle is exactly zero, and L·Lᵀ gives A back.
  const l = cholesky(A4) as Matrix;
  for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) assert.equal(l.get(i, j), 0);
  close(matmul(l, transpose(l)), A4.toArray(), "L·Lᵀ");
});

Deno.test("solveTriangular reads one triangle and matches solve on it", () => {
  const l = cholesky(A4) as Matrix;
  const full = Matrix.from(l.toArray().map((row, i) => row.map((v, j) => j > i ? 99 : v)));
  close(solveTriangular(full, b4), (solve(l, b4) as Matrix).toArray(), "lower");
  close(
    solveTriangular(transpose(l), b4, { lower: false }),
    (solve(transpose(l), b4) as Matrix).toArray(),
    "upper",
  );
  close(
    solveTriangular(l, b4, { transpose: true }),
    (solve(transpose(l), b4) as Matrix).toArray(),
    "transposed",
  );
});

Deno.test("numbers act as 1x1 matrices in the linear-algebra ops", () => {
  assert.equal(det(4), 4);
  assert.equal(logdet(Math.E), 1);
  assert.deepEqual((inv(4) as Matrix).toArray(), [[0.25]]);
  assert.deepEqual((solve(2, 6) as Matrix).toArray(), [[3]]);
  assert.deepEqual((cholesky(9) as Matrix).toArray(), [[3]]);
  assert.equal(det(Matrix.zeros(0, 0)), 1);
});

Deno.test("the gradients of det, logdet and inv are the closed forms", () => {
  close(grad(det)(N3) as Matrix, NUMPY.gradDetN3, "grad det");
  close(grad(logdet)(A4) as Matrix, NUMPY.invA4, "grad logdet (A4 is symmetric)");
  // d/dA sum(A⁻¹) = −A⁻ᵀ·1·1ᵀ·A⁻ᵀ.
  const yt = transpose(inv(N3));
  const ones = Matrix.ones(3, 3);
  close(
    grad((a: Tensor) => sum(inv(a)))(N3) as Matrix,
    (matmul(matmul(yt, ones), yt) as Matrix).toArray().map((r) => r.map((v) => -v)),
    "grad sum inv",
  );
  // cholesky's gradient is symmetric, as it differentiates the symmetric part.
  const g = grad((a: Tensor) => sum(cholesky(a)))(A4) as Matrix;
  for (let i = 0; i < 4; i++) for (let j = 0; j < i; j++) assert.equal(g.get(i, j), g.get(j, i));
  // Forward mode agrees: the derivative of log det along A itself is tr(A⁻¹A) = n.
  const [, t] = jvp(logdet, [A4], [A4]);
  assertClose([t as number], [4], "jvp logdet", TOL);
});

Deno.test("linear algebra rejects singular, non-square and not positive-definite matrices", () => {
  const singular = Matrix.from([[1, 2], [2, 4]]);
  const error = (f: () => unknown, kind: typeof Error, pattern: RegExp) =>
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof kind, String(e));
      assert.match((e as Error).message, pattern);
      return true;
    });
  error(
    () => solve(singular, Matrix.ones(2, 1)),
    RangeError,
    /^solve: the matrix is singular .*column 1 of 2/,
  );
  error(() => inv(singular), RangeError, /^inv: the matrix is singular/);
  assert.equal(det(singular), 0);
  error(() => logdet(singular), RangeError, /^logdet: the determinant is 0/);
  const negative = Matrix.from([[0, 1], [1, 0]]);
  error(() => logdet(negative), RangeError, /^logdet: the determinant is negative/);
  error(
    () => cholesky(Matrix.from([[1, 2], [2, 1]])),
    RangeError,
    /^cholesky: the matrix is not positive definite \(the pivot of row 1 of 2, counting from 0, is -3, not > 0\)/,
  );
  error(() => cholesky(Matrix.from([[-1]])), RangeError, /row 0 of 1.* is -1/);
  const wide = Matrix.zeros(2, 3);
  for (
    const [name, f] of [
      ["solve", () => solve(wide, Matrix.ones(2, 1))],
      ["inv", () => inv(wide)],
      ["det", () => det(wide)],
      ["logdet", () => logdet(wide)],
      ["cholesky", () => cholesky(wide)],
      ["solveTriangular", () => solveTriangular(wide, Matrix.ones(2, 1))],
    ] as const
  ) {
    error(f, TypeError, new RegExp(`^${name}: expected a square matrix, got 2x3$`));
  }
  error(() => solve(N3, b4), TypeError, /^solve: A is 3x3 but B is 4x1; B needs 3 rows$/);
  error(
    () => solveTriangular(Matrix.from([[1, 0], [1, 0]]), Matrix.ones(2, 1)),
    RangeError,
    /^solveTriangular: the matrix is singular \(diagonal element 1 of 2 is 0\)$/,
  );
  error(
    () => det([[1, 2], [3, 4]] as never),
    TypeError,
    /^det: argument 1 is an Array.*Matrix\.from/,
  );
});

Deno.test("shape and linear-algebra results in reused scratch memory are fully written", () => {
  const a = Matrix.from([[4, 2], [2, 5]]);
  const compute = () =>
    [
      cholesky(a),
      inv(a),
      solve(a, Matrix.ones(2, 3)),
      solveTriangular(a, Matrix.ones(2, 1), { lower: false }),
      padTo(a, 3, 4, 1, 1),
      scatterRows(a, [2, 2], 4),
      concat([a, slice(a, { rows: [1, 2] })]),
      gatherRows(a, [1, 0]),
      reshape(a, [1, 4]),
    ].map((m) => (m as Matrix).toArray());
  const fresh = compute();
  withScratch(() => add(Matrix.full(10, 10, NaN), 0)); // leave NaNs in the scratch memory
  assert.deepEqual(withScratch(compute), fresh);
});
