// Benchmarks of matmul and of one autograd training step, WASM SIMD against the TypeScript path.

import {
  abs,
  add,
  createRng,
  initMLP,
  logsumexp,
  matmul,
  Matrix,
  max,
  maximum,
  mseLoss,
  relu,
  sigmoid,
  softmaxCrossEntropy,
  softplus,
  sqrt,
  type Tensor,
  valueAndGrad,
} from "../../mod.ts";
import { type KernelBackend, kernelBackend, setKernelBackend } from "../../lib/_kernels.ts";
import { withScratch } from "../../lib/autograd/ops.ts";

const rng = createRng(0);
const hasWasm = kernelBackend() === "wasm";

function randomMatrix(rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal();
  return m;
}

/** Runs `f` on `backend`, then goes back to the default. */
function on(backend: KernelBackend, f: () => void): () => void {
  return () => {
    const previous = setKernelBackend(backend);
    try {
      f();
    } finally {
      setKernelBackend(previous);
    }
  };
}

/** Benchmarks `f` on the TS path (the baseline) and, where available, on WASM SIMD. */
function compare(group: string, f: () => void): void {
  Deno.bench({ name: `${group}: TypeScript`, group, baseline: true, fn: on("ts", f) });
  Deno.bench({ name: `${group}: WASM SIMD`, group, ignore: !hasWasm, fn: on("wasm", f) });
}

// The public op, a fresh result matrix each call included.
for (const [m, kk, n] of [[100, 8, 25], [1000, 256, 256]]) {
  const a = randomMatrix(m, kk), b = randomMatrix(kk, n);
  compare(`matmul ${m}x${kk}·${kk}x${n}`, () => void matmul(a, b));
}

/** A batch for an MLP with layer sizes `sizes`: random inputs, one-hot targets. */
function batch(sizes: number[], size: number): [Matrix[], Matrix, Matrix] {
  const params = initMLP(sizes, rng);
  const X = randomMatrix(size, sizes[0]);
  const outputs = sizes[sizes.length - 1];
  const Y = Matrix.zeros(size, outputs);
  for (let i = 0; i < size; i++) Y.data[i * outputs + rng.randint(outputs)] = 1;
  return [params, X, Y];
}

/**
 * The same loss and gradient written by hand with plain loops (no autograd, no blocking): the
 * reference that issue 2 measures against (~120 µs for the seed step on this machine).
 */
function handWrittenStep(params: Matrix[], X: Matrix, Y: Matrix): [number, Float64Array[]] {
  const B = X.rows, layers = params.length / 2;
  const hs: Float64Array[] = [new Float64Array(X.data.length)];
  for (let i = 0; i < B; i++) {
    for (let f = 0; f < X.cols; f++) hs[0][f * B + i] = X.data[i * X.cols + f];
  }
  for (let l = 0; l < layers; l++) {
    const W = params[2 * l], bias = params[2 * l + 1].data, h = hs[l];
    const z = new Float64Array(W.rows * B);
    for (let o = 0; o < W.rows; o++) {
      for (let p = 0; p < W.cols; p++) {
        const w = W.data[o * W.cols + p];
        for (let i = 0; i < B; i++) z[o * B + i] += w * h[p * B + i];
      }
      for (let i = 0; i < B; i++) z[o * B + i] = Math.tanh(z[o * B + i] + bias[o]);
    }
    hs.push(z);
  }
  const out = hs[layers], outputs = Y.cols, count = out.length;
  let loss = 0;
  let g = new Float64Array(count);
  for (let o = 0; o < outputs; o++) {
    for (let i = 0; i < B; i++) {
      const d = out[o * B + i] - Y.data[i * outputs + o];
      loss += d * d;
      g[o * B + i] = 2 * d / count;
    }
  }
  const grads: Float64Array[] = new Array(params.length);
  for (let l = layers - 1; l >= 0; l--) {
    const W = params[2 * l], h = hs[l + 1], prev = hs[l];
    for (let x = 0; x < g.length; x++) g[x] *= 1 - h[x] * h[x];
    const dW = new Float64Array(W.data.length), db = new Float64Array(W.rows);
    const gPrev = new Float64Array(W.cols * B);
    for (let o = 0; o < W.rows; o++) {
      for (let i = 0; i < B; i++) db[o] += g[o * B + i];
      for (let p = 0; p < W.cols; p++) {
        let s = 0;
        const w = W.data[o * W.cols + p];
        for (let i = 0; i < B; i++) {
          s += g[o * B + i] * prev[p * B + i];
          gPrev[p * B + i] += w * g[o * B + i];
        }
        dW[o * W.cols + p] = s;
      }
    }
    grads[2 * l] = dW;
    grads[2 * l + 1] = db;
    g = gPrev;
  }
  return [loss / count, grads];
}

const lossAndGrad = valueAndGrad(mseLoss);
for (
  const [label, sizes, size] of [
    ["seed step, 8-25-10-2, batch 100", [8, 25, 10, 2], 100],
    ["large step, 8-256-256-2, batch 1000", [8, 256, 256, 2], 1000],
  ] as [string, number[], number][]
) {
  const [params, X, Y] = batch(sizes, size);
  compare(label, () => lossAndGrad(params, X, Y));
  for (const backend of ["ts", "wasm"] as const) {
    Deno.bench({
      name: `${label}: ${backend === "ts" ? "TypeScript" : "WASM SIMD"}, scratch memory`,
      group: label,
      ignore: backend === "wasm" && !hasWasm,
      fn: on(backend, () => void withScratch(() => lossAndGrad(params, X, Y))),
    });
  }
  Deno.bench({
    name: `${label}: hand-written loops, no autograd`,
    group: label,
    fn: () => void handWrittenStep(params, X, Y),
  });
}

// The element-wise ops and reductions of issue 10 that have WASM kernels, on 256x256.
{
  const a = randomMatrix(256, 256), b = randomMatrix(256, 256), positive = a.clone();
  for (let i = 0; i < positive.data.length; i++) positive.data[i] = Math.abs(positive.data[i]);
  const ops: [string, () => unknown][] = [
    ["sigmoid", () => sigmoid(a)],
    ["softplus", () => softplus(a)],
    ["relu", () => relu(a)],
    ["sqrt", () => sqrt(positive)],
    ["abs", () => abs(a)],
    ["maximum", () => maximum(a, b)],
    ["max along rows", () => max(a, { axis: 1 })],
    ["logsumexp along rows", () => logsumexp(a, { axis: 1 })],
  ];
  for (const [name, f] of ops) compare(`${name} 256x256`, () => void f());
}

// A relu classifier's loss and gradient: 8-64-2 with softmax cross-entropy, batch 100.
{
  const [W1, W2] = [randomMatrix(8, 64), randomMatrix(64, 2)];
  const b1 = randomMatrix(1, 64);
  const X = randomMatrix(100, 8), Y = Matrix.zeros(100, 2);
  for (let i = 0; i < 100; i++) Y.data[i * 2 + rng.randint(2)] = 1;
  const loss = (p: Tensor[], x: Tensor, y: Tensor) =>
    softmaxCrossEntropy(matmul(relu(add(matmul(x, p[0]), p[1])), p[2]), y);
  const step = valueAndGrad(loss);
  compare("relu classifier step, 8-64-2, batch 100", () => void step([W1, b1, W2], X, Y));
}
