// Finite-difference cases of the linear-algebra family (solve, solveTriangular, cholesky,
// inv, det, logdet), on seeded well-conditioned or symmetric positive-definite inputs.

import {
  add,
  cholesky,
  det,
  inv,
  logdet,
  matmul,
  Matrix,
  type Rng,
  solve,
  solveTriangular,
  sum,
  transpose,
} from "../../mod.ts";
import type { Case } from "../_fd.ts";

/** A normal n×m matrix. */
const normal = (rng: Rng, n: number, m: number) => Matrix.randomNormal(n, m, rng);

/** A well-conditioned n×n matrix: normal entries plus `n` on the diagonal. */
function wellConditioned(rng: Rng, n: number): Matrix {
  const a = normal(rng, n, n);
  for (let i = 0; i < n; i++) a.data[i * n + i] += n;
  return a;
}

/** A symmetric positive-definite n×n matrix, `M·Mᵀ + n·I`. */
function spd(rng: Rng, n: number): Matrix {
  const m = normal(rng, n, n);
  return add(matmul(m, transpose(m)), scaledEye(n, n)) as Matrix;
}

/** `s·I`, n×n. */
function scaledEye(n: number, s: number): Matrix {
  const e = Matrix.eye(n);
  for (let i = 0; i < e.data.length; i++) e.data[i] *= s;
  return e;
}

export const CASES: Case[] = [
  {
    name: "solve 3x3 with a 3x2 right side",
    covers: ["solve"],
    f: solve,
    shapes: [[3, 3], [3, 2]],
    inputs: (rng) => [wellConditioned(rng, 3), normal(rng, 3, 2)],
  },
  {
    name: "solve 4x4 with a column",
    covers: ["solve"],
    f: solve,
    shapes: [[4, 4], [4, 1]],
    inputs: (rng) => [wellConditioned(rng, 4), normal(rng, 4, 1)],
  },
  {
    name: "solve with a shared matrix on both sides",
    covers: ["solve"],
    f: (a) => solve(a, a),
    shapes: [[3, 3]],
    inputs: (rng) => [wellConditioned(rng, 3)],
  },
  {
    name: "solve of numbers",
    covers: ["solve"],
    f: solve,
    shapes: ["scalar", "scalar"],
    inputs: (rng) => [2 + rng.next(), rng.normal()],
  },
  ...([[true, false], [true, true], [false, false], [false, true]] as const).map((
    [lower, trans],
  ): Case => ({
    name: `solveTriangular ${lower ? "lower" : "upper"}${trans ? " transposed" : ""}`,
    covers: ["triangularSolve"],
    f: (t, b) => solveTriangular(t, b, { lower, transpose: trans }),
    shapes: [[3, 3], [3, 2]],
    inputs: (rng) => [wellConditioned(rng, 3), normal(rng, 3, 2)],
  })),
  {
    name: "cholesky of a 3x3 SPD matrix",
    covers: ["cholesky"],
    f: cholesky,
    shapes: [[3, 3]],
    inputs: (rng) => [spd(rng, 3)],
  },
  {
    name: "cholesky of a 4x4 SPD matrix, through a solve",
    covers: ["cholesky", "triangularSolve"],
    f: (a, b) => solveTriangular(cholesky(a), b),
    shapes: [[4, 4], [4, 2]],
    inputs: (rng) => [spd(rng, 4), normal(rng, 4, 2)],
  },
  {
    name: "cholesky of a number",
    covers: ["cholesky"],
    f: cholesky,
    shapes: ["scalar"],
    inputs: (rng) => [1 + rng.next()],
  },
  {
    name: "inv of 3x3",
    covers: ["inv"],
    f: inv,
    shapes: [[3, 3]],
    inputs: (rng) => [wellConditioned(rng, 3)],
  },
  {
    name: "inv of a number",
    covers: ["inv"],
    f: inv,
    shapes: ["scalar"],
    inputs: (rng) => [1 + rng.next()],
  },
  {
    name: "det of 3x3",
    covers: ["det"],
    f: det,
    shapes: [[3, 3]],
    inputs: (rng) => [wellConditioned(rng, 3)],
  },
  {
    name: "det of 4x4 normal",
    covers: ["det"],
    f: det,
    shapes: [[4, 4]],
    inputs: (rng) => [add(normal(rng, 4, 4), scaledEye(4, 2)) as Matrix],
  },
  {
    name: "logdet of a 3x3 SPD matrix",
    covers: ["logdet"],
    f: logdet,
    shapes: [[3, 3]],
    inputs: (rng) => [spd(rng, 3)],
  },
  {
    name: "logdet of 4x4 well-conditioned",
    covers: ["logdet"],
    f: logdet,
    shapes: [[4, 4]],
    inputs: (rng) => [wellConditioned(rng, 4)],
  },
  {
    name: "a Gaussian log-likelihood through cholesky (a composite)",
    covers: [],
    f: (a, y) => {
      const l = cholesky(a);
      const z = solveTriangular(l, y);
      return add(sum(matmul(transpose(z), z)), logdet(a));
    },
    shapes: [[3, 3], [3, 1]],
    inputs: (rng) => [spd(rng, 3), normal(rng, 3, 1)],
  },
];
