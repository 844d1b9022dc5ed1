// Small generated training data for the trainer's tests.

import { createRng, Matrix } from "../mod.ts";

/** A seeded two-class set with 4 features. */
export function synthetic(rows: number, seed = 1): { X: Matrix; Y: Matrix } {
  const rng = createRng(seed);
  const X = Matrix.zeros(rows, 4), Y = Matrix.zeros(rows, 2);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < 4; j++) {
      const v = rng.normal();
      X.data[i * 4 + j] = v;
      s += j % 2 === 0 ? v : -0.5 * v;
    }
    Y.data[i * 2 + (s > 0 ? 1 : 0)] = 1;
  }
  return { X, Y };
}
