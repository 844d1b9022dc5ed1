// Finite-difference cases of the shapes-and-selection family (reshape, slice and pad,
// gatherRows and scatterRows, concat, stopGradient).

import {
  add,
  concat,
  gatherRows,
  matmul,
  mul,
  reshape,
  slice,
  stopGradient,
  sub,
  tanh,
} from "../../mod.ts";
import { padTo, scatterRows } from "../../lib/autograd/ops.ts";
import type { Case } from "../_fd.ts";

export const CASES: Case[] = [
  {
    name: "reshape 3x2 to 2x3",
    covers: ["reshape"],
    f: (a) => reshape(a, [2, 3]),
    shapes: [[3, 2]],
  },
  {
    name: "reshape 2x3 to a column",
    covers: ["reshape"],
    f: (a) => reshape(a, [-1, 1]),
    shapes: [[2, 3]],
  },
  { name: "reshape a number to 1x1", covers: [], f: (a) => reshape(a, [1, 1]), shapes: ["scalar"] },
  {
    name: "slice a block",
    covers: ["slice"],
    f: (a) => slice(a, { rows: [1, 3], cols: [0, 2] }),
    shapes: [[4, 3]],
  },
  {
    name: "slice columns",
    covers: ["slice"],
    f: (a) => slice(a, { cols: [2, 3] }),
    shapes: [[3, 3]],
  },
  {
    name: "slice to no rows",
    covers: ["slice"],
    f: (a) => slice(a, { rows: [2, 2] }),
    shapes: [[3, 2]],
  },
  {
    name: "slice squared (second order through pad)",
    covers: ["slice"],
    f: (a) => mul(slice(a, { rows: [0, 2] }), slice(a, { rows: [1, 3] })),
    shapes: [[3, 2]],
  },
  { name: "pad into 4x5", covers: ["pad"], f: (a) => padTo(a, 4, 5, 1, 2), shapes: [[2, 3]] },
  {
    name: "pad through tanh",
    covers: ["pad"],
    f: (a) => tanh(padTo(a, 3, 3, 1, 0)),
    shapes: [[2, 3]],
  },
  {
    name: "gatherRows with repeated indices",
    covers: ["gatherRows"],
    f: (a) => gatherRows(a, [2, 0, 2, 2]),
    shapes: [[3, 2]],
  },
  {
    name: "gatherRows squared, repeats",
    covers: ["gatherRows"],
    f: (a) => mul(gatherRows(a, [1, 1, 0]), gatherRows(a, [0, 1, 1])),
    shapes: [[2, 3]],
  },
  {
    name: "gatherRows of none",
    covers: ["gatherRows"],
    f: (a) => gatherRows(a, []),
    shapes: [[3, 2]],
  },
  {
    name: "gatherRows of a number",
    covers: [],
    f: (a) => gatherRows(a, [0, 0]),
    shapes: ["scalar"],
  },
  {
    name: "scatterRows with repeated indices",
    covers: ["scatterRows"],
    f: (a) => tanh(scatterRows(a, [1, 0, 1, 3], 4)),
    shapes: [[4, 2]],
  },
  {
    name: "concat along axis 0",
    covers: ["concat"],
    f: (a, b, c) => concat([a, b, c]),
    shapes: [[3, 2], [1, 2], [2, 2]],
  },
  {
    name: "concat along axis 1",
    covers: ["concat"],
    f: (a, b) => concat([a, b], { axis: 1 }),
    shapes: [[2, 1], [2, 3]],
  },
  {
    name: "concat of numbers and an empty matrix",
    covers: ["concat"],
    f: (a, b, c) => concat([a, b, c], { axis: 1 }),
    shapes: ["scalar", [1, 0], "scalar"],
  },
  {
    name: "concat of products (second order)",
    covers: ["concat"],
    f: (a, b) => matmul(concat([a, b]), concat([b, a], { axis: 1 })),
    shapes: [[2, 2], [2, 2]],
  },
  {
    // stopGradient's zero derivative cannot agree with finite differences unless the stopped
    // paths cancel; this exercises its rules in every mode (ops_shapes_test checks the zeros).
    name: "stopGradient in paths that cancel",
    covers: ["stopGradient"],
    f: (a) => add(tanh(a), sub(stopGradient(mul(a, a)), stopGradient(mul(a, a)))),
    shapes: [[2, 2]],
  },
];
