// Finite-difference cases of the element-wise functions added with issue 10: sqrt, abs, sin,
// cos, sigmoid, relu, softplus, maximum (and minimum, clip, where built on it). Random inputs
// keep away from the kinks, so every case checks second order too; the kinks themselves are
// tested in tests/ops_elementwise_test.ts.

import {
  abs,
  add,
  clip,
  cos,
  greater,
  Matrix,
  maximum,
  minimum,
  relu,
  sigmoid,
  sin,
  softplus,
  sqrt,
  where,
} from "../../mod.ts";
import { reluGrad, sigmoidGrad } from "../../lib/autograd/ops.ts";
import { binaryCases, type Case, unaryCases } from "../_fd.ts";

const mask = Matrix.from([[1, 0, 1], [0, 0, 1]]);

export const CASES: Case[] = [
  ...unaryCases("sqrt", ["sqrt"], sqrt, true),
  ...unaryCases("abs", ["abs"], abs),
  ...unaryCases("sin", ["sin"], sin),
  ...unaryCases("cos", ["cos"], cos),
  ...unaryCases("sigmoid", ["sigmoid", "sigmoidGrad"], sigmoid),
  ...binaryCases("sigmoidGrad", ["sigmoidGrad"], sigmoidGrad),
  ...unaryCases("relu", ["relu", "reluGrad"], relu),
  ...unaryCases("softplus", ["softplus", "sigmoid"], softplus),
  {
    name: "sigmoid and softplus of large inputs",
    covers: ["sigmoid", "softplus"],
    f: (a) => softplus(sigmoid(a)),
    shapes: [[2, 3]],
    inputs: () => [Matrix.from([[-30, -8, 5], [12, 30, -0.5]])],
  },
  ...binaryCases("reluGrad", ["reluGrad"], reluGrad),
  ...binaryCases("maximum", ["maximum"], maximum),
  ...binaryCases("minimum", ["maximum", "neg"], minimum),
  ...unaryCases("clip to [-0.5, 0.5]", ["maximum"], (a) => clip(a, -0.5, 0.5)),
  {
    name: "clip with matrix bounds",
    covers: ["maximum"],
    f: (a, lo) => clip(a, lo, add(lo, 1)),
    shapes: [[3, 2], [3, 1]],
  },
  {
    name: "where with a constant mask",
    covers: ["where"],
    f: (a, b) => where(mask, a, b),
    shapes: [[2, 3], [2, 3]],
  },
  ...binaryCases(
    "where with a mask of the second argument's sign",
    ["where"],
    (a, b) => where(greater(b, 0), a, b),
  ),
  {
    name: "where broadcasting a row mask to a column and a number",
    covers: ["where"],
    f: (a, b) => where(Matrix.from([[1, 0, 1]]), a, b),
    shapes: [[2, 1], "scalar"],
  },
];
