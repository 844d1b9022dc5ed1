// HIPS autograd's examples/tanh.py in denograd: tanh written from exponentials, and its first
// four derivatives on a grid by nesting `elementwiseGrad` (HIPS `elementwise_grad`). The
// original plots the five curves; this prints them at every 50th grid point and each curve's
// extremes on the grid.
//
//   deno run scripts/examples/tanh.ts

import { add, div, elementwiseGrad, exp, Matrix, mul, neg, sub, type Tensor } from "../../mod.ts";

/** tanh from exponentials, as the original writes it. */
export function tanh(x: Tensor): Tensor {
  return div(sub(1, exp(mul(-2, x))), add(1, exp(neg(mul(2, x)))));
}

/** `count` evenly spaced points from `start` to `stop` inclusive (numpy's `linspace`), as a row. */
export function linspace(start: number, stop: number, count: number): Matrix {
  const m = Matrix.zeros(1, count);
  const step = (stop - start) / (count - 1);
  for (let i = 0; i < count; i++) m.data[i] = start + i * step;
  m.data[count - 1] = stop;
  return m;
}

/** The grid and tanh with its derivatives of order 0 to 4 on it (rows of 700 values each). */
export function run(): { x: Matrix; curves: Matrix[] } {
  const x = linspace(-7, 7, 700);
  const curves: Matrix[] = [];
  // deno-lint-ignore no-explicit-any
  let f: (x: any) => unknown = tanh;
  for (let order = 0; order <= 4; order++) {
    curves.push(f(x) as Matrix);
    f = elementwiseGrad(f);
  }
  return { x, curves };
}

if (import.meta.main) {
  const { x, curves } = run();
  const labels = [
    "tanh(x)",
    "1st derivative",
    "2nd derivative",
    "3rd derivative",
    "4th derivative",
  ];
  const fmt = (v: number) => v.toFixed(6).padStart(15);
  console.log("tanh(x) and its derivatives");
  console.log("x".padStart(10) + labels.map((l) => l.padStart(15)).join(""));
  for (let i = 0; i < x.cols; i += 50) {
    console.log(x.data[i].toFixed(4).padStart(10) + curves.map((c) => fmt(c.data[i])).join(""));
  }
  for (const [k, c] of curves.entries()) {
    const lo = c.data.indexOf(Math.min(...c.data)), hi = c.data.indexOf(Math.max(...c.data));
    console.log(
      `${labels[k]}: min ${c.data[lo].toFixed(6)} at x = ${x.data[lo].toFixed(4)}, ` +
        `max ${c.data[hi].toFixed(6)} at x = ${x.data[hi].toFixed(4)}`,
    );
  }
}
