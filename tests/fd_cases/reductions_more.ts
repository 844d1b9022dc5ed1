// Finite-difference cases of the reductions added with issue 10 (max, and min, logsumexp,
// softmax and logSoftmax built on it) and of the classification losses. Random inputs have
// no tied maxima; ties are tested in tests/ops_elementwise_test.ts.

import {
  logSoftmax,
  logsumexp,
  Matrix,
  max,
  min,
  type Rng,
  sigmoidCrossEntropy,
  softmax,
  softmaxCrossEntropy,
} from "../../mod.ts";
import { type Case, random, unaryCases } from "../_fd.ts";

/** Rows of class probabilities (positive, summing to 1), for soft targets. */
function probabilities(rng: Rng, rows: number, cols: number): Matrix {
  const m = random([rows, cols], rng, true) as Matrix;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += m.data[i * cols + j];
    for (let j = 0; j < cols; j++) m.data[i * cols + j] /= s;
  }
  return m;
}

const axes = [undefined, 0, 1] as const;

export const CASES: Case[] = [
  ...unaryCases("max", ["max"], (a) => max(a)),
  ...unaryCases("min", ["max"], (a) => min(a)),
  ...unaryCases("logsumexp", ["max", "exp", "log"], (a) => logsumexp(a)),
  ...axes.slice(1).flatMap((axis): Case[] => [
    {
      name: `max along axis ${axis}`,
      covers: ["max"],
      f: (a) => max(a, { axis }),
      shapes: [[3, 4]],
    },
    {
      name: `min along axis ${axis}`,
      covers: ["max"],
      f: (a) => min(a, { axis }),
      shapes: [[3, 4]],
    },
    {
      name: `logsumexp along axis ${axis}`,
      covers: ["exp", "log"],
      f: (a) => logsumexp(a, { axis }),
      shapes: [[3, 4]],
    },
    {
      name: `softmax along axis ${axis}`,
      covers: ["exp", "div"],
      f: (a) => softmax(a, { axis }),
      shapes: [[3, 4]],
    },
    {
      name: `logSoftmax along axis ${axis}`,
      covers: ["exp", "log"],
      f: (a) => logSoftmax(a, { axis }),
      shapes: [[3, 4]],
    },
  ]),
  ...unaryCases("softmax", ["exp"], (a) => softmax(a)),
  ...unaryCases("logSoftmax", ["exp"], (a) => logSoftmax(a)),
  {
    name: "logsumexp of large inputs",
    covers: ["exp", "log"],
    f: (a) => logsumexp(a, { axis: 1 }),
    shapes: [[2, 3]],
    inputs: () => [Matrix.from([[1000, 999, 998.5], [-1000, -1001, -999]])],
  },
  {
    name: "softmaxCrossEntropy with one-hot targets",
    covers: ["exp", "log"],
    f: (x, t) => softmaxCrossEntropy(x, t),
    shapes: [[4, 3], [4, 3]],
    inputs: (rng) => [
      random([4, 3], rng),
      Matrix.from([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]),
    ],
  },
  {
    name: "softmaxCrossEntropy with probability targets",
    covers: ["exp", "log"],
    f: (x, t) => softmaxCrossEntropy(x, t),
    shapes: [[4, 3], [4, 3]],
    inputs: (rng) => [random([4, 3], rng), probabilities(rng, 4, 3)],
  },
  {
    name: "sigmoidCrossEntropy",
    covers: ["softplus"],
    f: (x, t) => sigmoidCrossEntropy(x, t),
    shapes: [[4, 2], [4, 2]],
    inputs: (rng) => [random([4, 2], rng), random([4, 2], rng, true)],
  },
  {
    name: "sigmoidCrossEntropy of large logits",
    covers: ["softplus"],
    f: (x, t) => sigmoidCrossEntropy(x, t),
    shapes: [[1, 4], [1, 4]],
    inputs: () => [Matrix.from([[30, -30, 12, -12]]), Matrix.from([[1, 0, 0.5, 0.25]])],
  },
];
