// Tests of the raw kernels: the WASM and TypeScript paths agree bit for bit and match references.

import assert from "node:assert/strict";
import { createRng, initMLP, Matrix, mseLoss, valueAndGrad } from "../mod.ts";
import { withScratch } from "../lib/autograd/ops.ts";
import * as k from "../lib/_kernels.ts";
import { wasm } from "../lib/_wasm.ts";
import type { Rng } from "../lib/random.ts";

const noWasm = wasm === undefined;

function random(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** Runs `f` with the given backend selected, restoring the previous one afterwards. */
function using<T>(backend: k.KernelBackend, f: () => T): T {
  const previous = k.setKernelBackend(backend);
  try {
    return f();
  } finally {
    k.setKernelBackend(previous);
  }
}

/** Element-by-element equality that treats NaN as equal to NaN and tells +0 from -0. */
function assertSameBits(actual: Float64Array, expected: Float64Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths differ`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      assert.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** A gemm that returns its m×n result: the kernel's arguments without `out`. */
type GemmResult = (
  ...args: [
    a: Float64Array,
    b: Float64Array,
    m: number,
    n: number,
    kk: number,
    transA: boolean,
    transB: boolean,
  ]
) => Float64Array;

/** The textbook triple loop, each sum taken over p in order (the kernels' summation order). */
const referenceGemm: GemmResult = (a, b, m, n, kk, transA, transB) => {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < kk; p++) {
        s += (transA ? a[p * m + i] : a[i * kk + p]) * (transB ? b[j * kk + p] : b[p * n + j]);
      }
      out[i * n + j] = s;
    }
  }
  return out;
};

/** The kernel on `backend`, into a NaN-filled output (every element must be written). */
const gemmWith = (backend: k.KernelBackend): GemmResult => (a, b, m, n, kk, transA, transB) => {
  const out = new Float64Array(m * n).fill(NaN);
  using(backend, () => k.gemm(a, b, out, m, n, kk, transA, transB));
  return out;
};

// Odd sizes, single rows and columns, and sizes past the WASM blocking (64 rows, 256 inner).
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 3],
  [7, 1, 3],
  [5, 6, 1],
  [3, 5, 7],
  [4, 4, 4],
  [25, 100, 8],
  [10, 25, 100],
  [2, 10, 100],
  [67, 9, 300],
  [9, 70, 257],
  [130, 5, 513],
];

Deno.test("gemm matches the textbook triple loop bit for bit on every backend", async (t) => {
  const rng = createRng(1);
  const backends: k.KernelBackend[] = noWasm ? ["ts"] : ["ts", "wasm"];
  for (const [m, n, kk] of SHAPES) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const label = `${m}x${n}x${kk} ${transA ? "T" : "N"}${transB ? "T" : "N"}`;
        await t.step(label, () => {
          const a = random(rng, m * kk), b = random(rng, kk * n);
          const expected = referenceGemm(a, b, m, n, kk, transA, transB);
          for (const backend of backends) {
            assertSameBits(
              gemmWith(backend)(a, b, m, n, kk, transA, transB),
              expected,
              `${backend} ${label}`,
            );
          }
        });
      }
    }
  }
});

Deno.test({
  name: "gemm gives identical bits on the WASM and TS paths for random shapes",
  ignore: noWasm,
  fn() {
    const rng = createRng(2);
    for (let trial = 0; trial < 300; trial++) {
      const m = 1 + rng.randint(90), n = 1 + rng.randint(90), kk = 1 + rng.randint(300);
      const transA = rng.next() < 0.5, transB = rng.next() < 0.5;
      const a = random(rng, m * kk), b = random(rng, kk * n);
      assertSameBits(
        gemmWith("wasm")(a, b, m, n, kk, transA, transB),
        gemmWith("ts")(a, b, m, n, kk, transA, transB),
        `${m}x${n}x${kk} transA=${transA} transB=${transB}`,
      );
    }
  },
});

Deno.test({
  name: "gemm propagates NaN and infinities the same way on both paths",
  ignore: noWasm,
  fn() {
    const rng = createRng(3);
    const [m, n, kk] = [6, 7, 9];
    const a = random(rng, m * kk), b = random(rng, kk * n);
    a[3] = Infinity;
    a[20] = NaN;
    b[5] = -Infinity;
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const expected = referenceGemm(a, b, m, n, kk, transA, transB);
        assertSameBits(gemmWith("wasm")(a, b, m, n, kk, transA, transB), expected, "wasm");
        assertSameBits(gemmWith("ts")(a, b, m, n, kk, transA, transB), expected, "ts");
      }
    }
  },
});

function tanhWith(backend: k.KernelBackend, x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  using(backend, () => k.tanhInto(x, out));
  return out;
}

/** Inputs across tanh's whole range: signed zeros, subnormals, both branches, saturation. */
function tanhInputs(): Float64Array {
  const rng = createRng(4);
  const xs = [0, -0, 5e-324, -5e-324, 1e-310, 1e-300, 1e-20, 1e-9, 0.625, -0.625, 0.6249999999];
  xs.push(19, 19.1, 22, -22, 22.5, 700, 1e300, -1e300, Number.MAX_VALUE, Infinity, -Infinity);
  for (let e = -30; e <= 3; e += 0.01) {
    const x = 10 ** e * (1 + rng.next());
    xs.push(x, -x);
  }
  for (let i = 0; i < 20000; i++) xs.push((rng.next() * 2 - 1) * 25);
  return new Float64Array(xs);
}

Deno.test("tanh stays within 1e-15 relative of Math.tanh and keeps the sign of zero", () => {
  const xs = tanhInputs();
  for (const backend of noWasm ? ["ts" as const] : ["ts" as const, "wasm" as const]) {
    const ys = tanhWith(backend, xs);
    let worst = 0, at = 0;
    for (let i = 0; i < xs.length; i++) {
      const ref = Math.tanh(xs[i]);
      if (ref === 0) {
        assert.ok(Object.is(ys[i], ref), `${backend}: tanh(${xs[i]}) is ${ys[i]}, not ${ref}`);
        continue;
      }
      const rel = Math.abs(ys[i] - ref) / Math.abs(ref);
      if (rel > worst) [worst, at] = [rel, xs[i]];
    }
    assert.ok(worst < 1e-15, `${backend}: relative error ${worst} at x = ${at}`);
  }
});

Deno.test("tanh of NaN is NaN on both paths", () => {
  for (const backend of noWasm ? ["ts" as const] : ["ts" as const, "wasm" as const]) {
    const ys = tanhWith(backend, new Float64Array([NaN, 1, NaN]));
    assert.ok(Number.isNaN(ys[0]) && Number.isNaN(ys[2]), `${backend}: ${ys}`);
    assert.ok(Math.abs(ys[1] - Math.tanh(1)) < 1e-15, `${backend}: tanh(1) is ${ys[1]}`);
  }
});

Deno.test({
  name: "tanh gives identical bits on the WASM and TS paths, odd lengths included",
  ignore: noWasm,
  fn() {
    const xs = tanhInputs();
    assertSameBits(tanhWith("wasm", xs), tanhWith("ts", xs), "tanh");
    for (const n of [1, 2, 3, 7]) {
      const part = xs.slice(100, 100 + n);
      assertSameBits(tanhWith("wasm", part), tanhWith("ts", part), `tanh of ${n}`);
    }
  },
});

/** A broadcasting reference: out(i,j) = f(a(i mod ar, j mod ac), b(i mod br, j mod bc)). */
function referenceBinary(
  f: (x: number, y: number) => number,
  a: Float64Array,
  aShape: [number, number],
  b: Float64Array,
  bShape: [number, number],
  rows: number,
  cols: number,
): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const x = a[(i % aShape[0]) * aShape[1] + (j % aShape[1])];
      const y = b[(i % bShape[0]) * bShape[1] + (j % bShape[1])];
      out[i * cols + j] = f(x, y);
    }
  }
  return out;
}

Deno.test("element-wise kernels broadcast rows, columns and scalars like numpy", async (t) => {
  const rng = createRng(5);
  const ops: [string, k.BinaryKernel, (x: number, y: number) => number][] = [
    ["add", k.addInto, (x, y) => x + y],
    ["sub", k.subInto, (x, y) => x - y],
    ["mul", k.mulInto, (x, y) => x * y],
    ["div", k.divInto, (x, y) => x / y],
    ["tanhGrad", k.tanhGradInto, (y, g) => g * (1 - y * y)],
    ["maximum", k.maximumInto, Math.max],
    ["reluGrad", k.reluGradInto, (x, g) => x > 0 ? g : 0],
    ["sigmoidGrad", k.sigmoidGradInto, (y, g) => g * (y * (1 - y))],
  ];
  // Small outputs stay in TypeScript; from 32 elements the WASM kernel takes over.
  const outputs: [number, number][] = [[4, 3], [7, 9], [6, 16], [1, 37], [37, 1]];
  const backends: k.KernelBackend[] = noWasm ? ["ts"] : ["ts", "wasm"];
  for (const [name, kernel, f] of ops) {
    await t.step(name, () => {
      for (const [rows, cols] of outputs) {
        const shapes: [number, number][] = [[rows, cols], [rows, 1], [1, cols], [1, 1]];
        for (const as of shapes) {
          for (const bs of shapes) {
            const a = random(rng, as[0] * as[1]), b = random(rng, bs[0] * bs[1]);
            const expected = referenceBinary(f, a, as, b, bs, rows, cols);
            for (const backend of backends) {
              const out = new Float64Array(rows * cols).fill(NaN);
              using(backend, () => kernel(a, as[0], as[1], b, bs[0], bs[1], out, rows, cols));
              assertSameBits(out, expected, `${backend} ${name} ${as} with ${bs}`);
            }
          }
        }
      }
    });
  }
  await t.step("broadcastInto", () => {
    const [rows, cols] = [4, 3];
    for (const as of [[rows, cols], [rows, 1], [1, cols], [1, 1]] as [number, number][]) {
      const a = random(rng, as[0] * as[1]);
      const out = new Float64Array(rows * cols);
      k.broadcastInto(a, as[0], as[1], out, rows, cols);
      assertSameBits(out, referenceBinary((x) => x, a, as, a, as, rows, cols), `from ${as}`);
    }
  });
});

Deno.test("reductions and transpose match their definitions", () => {
  const a = new Float64Array([1, 2, 3, 4, 5, 6]); // 2x3
  assert.equal(k.sumAll(a), 21);
  const rowsOut = new Float64Array(3).fill(NaN), colsOut = new Float64Array(2);
  k.sumRows(a, 2, 3, rowsOut);
  k.sumCols(a, 2, 3, colsOut);
  assert.deepEqual([...rowsOut], [5, 7, 9]);
  assert.deepEqual([...colsOut], [6, 15]);
  const big = new Float64Array(7 * 5).map((_, i) => (i % 5) + 10 * Math.floor(i / 5));
  const sums = new Float64Array(7);
  k.sumCols(big, 7, 5, sums); // four rows at a time, then one
  assert.deepEqual([...sums], [0, 1, 2, 3, 4, 5, 6].map((r) => 50 * r + 10));
  const t = new Float64Array(6);
  k.transposeInto(a, 2, 3, t);
  assert.deepEqual([...t], [1, 4, 2, 5, 3, 6]);
});

Deno.test("setKernelBackend refuses a backend this engine does not have", () => {
  // deno-lint-ignore no-explicit-any
  assert.throws(() => k.setKernelBackend("gpu" as any), RangeError);
  assert.equal(k.kernelBackend(), noWasm ? "ts" : "wasm");
});

Deno.test({
  name: "the MLP's loss and gradient are identical on the WASM and TS paths",
  ignore: noWasm,
  fn() {
    const rng = createRng(6);
    const params = initMLP([8, 25, 10, 2], rng);
    const X = new Matrix(100, 8, random(rng, 800));
    const Y = Matrix.zeros(100, 2);
    for (let i = 0; i < 100; i++) Y.data[i * 2 + rng.randint(2)] = 1;
    const run = (backend: k.KernelBackend) =>
      using(backend, () => valueAndGrad(mseLoss)(params, X, Y));
    const [lossW, gradW] = run("wasm"), [lossT, gradT] = run("ts");
    assert.ok(Object.is(lossW, lossT), `loss ${lossW} vs ${lossT}`);
    gradW.forEach((g, i) => assertSameBits(g.data, gradT[i].data, `gradient ${i}`));
  },
});

Deno.test("withScratch gives the same results on both backends and reuses its memory", () => {
  const rng = createRng(7);
  const params = initMLP([8, 25, 10, 2], rng);
  const X = new Matrix(100, 8, random(rng, 800));
  const Y = Matrix.zeros(100, 2);
  for (let i = 0; i < 100; i++) Y.data[i * 2 + rng.randint(2)] = 1;
  const lossAndGrad = () => valueAndGrad(mseLoss)(params, X, Y);
  const [loss, grads] = lossAndGrad();
  for (const backend of noWasm ? ["ts" as const] : ["ts" as const, "wasm" as const]) {
    const views: Float64Array[] = [];
    for (let step = 0; step < 4; step++) {
      using(backend, () =>
        withScratch(() => {
          const [l, g] = lossAndGrad();
          assert.ok(Object.is(l, loss), `${backend} step ${step}: loss ${l} vs ${loss}`);
          g.forEach((m, i) => assertSameBits(m.data, grads[i].data, `${backend} gradient ${i}`));
          views.push(g[0].data);
        }));
    }
    // From the second step on the memory is big enough, and the same places are reused.
    assert.equal(views[3].buffer, views[2].buffer);
    assert.equal(views[3].byteOffset, views[2].byteOffset);
  }
});

Deno.test("kernels handle empty operands on both backends, writing zeros for an empty sum", () => {
  for (const backend of noWasm ? ["ts" as const] : ["ts" as const, "wasm" as const]) {
    using(backend, () => {
      for (const [m, n] of [[1, 1], [5, 3], [64, 64], [100, 7]]) {
        for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
          const out = new Float64Array(m * n).fill(7); // as reused scratch memory would be
          k.gemm(new Float64Array(0), new Float64Array(0), out, m, n, 0, transA, transB);
          assert.ok(out.every((v) => v === 0), `${backend} ${m}x0 · 0x${n}`);
        }
      }
      k.gemm(new Float64Array(0), new Float64Array(12), new Float64Array(0), 0, 4, 3, false, false);
      k.tanhInto(new Float64Array(0), new Float64Array(0));
      const empty = new Float64Array(0);
      k.addInto(empty, 0, 40, new Float64Array([1]), 1, 1, empty, 0, 40);
      assert.equal(k.sumAll(empty), 0);
      const sums = new Float64Array(3).fill(7);
      k.sumRows(empty, 0, 3, sums);
      assert.deepEqual(Array.from(sums), [0, 0, 0]);
    });
  }
});

/** Inputs for the new unary kernels: signed zeros, subnormals, tails, NaN and infinities. */
function unaryInputs(): Float64Array {
  const rng = createRng(8);
  const xs = [0, -0, 5e-324, -5e-324, 1e-310, 1e-20, 0.5, -0.5, 1, -1, 36, -36, 37.5, -37.5];
  xs.push(700, -700, 709.5, -709.5, 745, -745, 749.9, 750, -751, 1e300, -1e300, NaN);
  xs.push(Infinity, -Infinity, Number.MAX_VALUE, -Number.MAX_VALUE);
  for (let e = -20; e <= 3; e += 0.01) {
    const x = 10 ** e * (1 + rng.next());
    xs.push(x, -x);
  }
  for (let i = 0; i < 20000; i++) xs.push((rng.next() * 2 - 1) * 60);
  return new Float64Array(xs);
}

const UNARY: [string, k.UnaryKernel, (x: number) => number][] = [
  ["sqrt", k.sqrtInto, Math.sqrt],
  ["abs", k.absInto, Math.abs],
  ["relu", k.reluInto, (x) => Math.max(x, 0)],
  ["sigmoid", k.sigmoidInto, k.sigmoidScalar],
  ["softplus", k.softplusInto, k.softplusScalar],
];

function unaryWith(backend: k.KernelBackend, kernel: k.UnaryKernel, x: Float64Array) {
  const out = new Float64Array(x.length).fill(NaN);
  using(backend, () => kernel(x, out));
  return out;
}

Deno.test("sqrt, abs, relu, sigmoid and softplus kernels give identical bits on both paths", async (t) => {
  const xs = unaryInputs();
  for (const [i, [name, kernel, f]] of UNARY.entries()) {
    await t.step(name, () => {
      if (!noWasm) assert.ok(wasm!.unary(i, xs, new Float64Array(xs.length)), "WASM runs");
      const expected = xs.map(f);
      for (const backend of noWasm ? ["ts" as const] : ["ts" as const, "wasm" as const]) {
        assertSameBits(unaryWith(backend, kernel, xs), expected, `${backend} ${name}`);
        for (const n of [0, 1, 2, 3, 31, 32, 33, 65]) {
          const part = xs.slice(40, 40 + n);
          assertSameBits(
            unaryWith(backend, kernel, part),
            part.map(f),
            `${backend} ${name} of ${n}`,
          );
        }
      }
    });
  }
});

Deno.test("sigmoid and softplus kernels stay within a few ulp of their definitions", () => {
  const xs = unaryInputs();
  for (const backend of noWasm ? ["ts" as const] : ["ts" as const, "wasm" as const]) {
    const sig = unaryWith(backend, k.sigmoidInto, xs), sp = unaryWith(backend, k.softplusInto, xs);
    let worstSig = 0, worstSp = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      if (Number.isNaN(x)) {
        assert.ok(Number.isNaN(sig[i]) && Number.isNaN(sp[i]), `${backend}: NaN in, NaN out`);
        continue;
      }
      const s = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
      const p = Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
      if (s > 1e-300) worstSig = Math.max(worstSig, Math.abs(sig[i] - s) / s);
      if (p > 1e-300 && Number.isFinite(p)) worstSp = Math.max(worstSp, Math.abs(sp[i] - p) / p);
    }
    assert.ok(worstSig < 6e-16, `${backend} sigmoid: relative error ${worstSig}`);
    assert.ok(worstSp < 6e-16, `${backend} softplus: relative error ${worstSp}`);
  }
});

Deno.test("the max reductions match Math.max, NaN and signed zeros included, on both paths", () => {
  const rng = createRng(9);
  for (const [rows, cols] of [[1, 1], [3, 1], [1, 33], [7, 9], [40, 5], [5, 64], [2, 0]]) {
    const a = random(rng, rows * cols);
    if (rows * cols > 10) [a[3], a[7]] = [NaN, -0];
    const expected = new Float64Array(rows).map((_, i) =>
      Math.max(...a.subarray(i * cols, (i + 1) * cols))
    );
    for (const backend of noWasm ? ["ts" as const] : ["ts" as const, "wasm" as const]) {
      const out = new Float64Array(rows).fill(7);
      using(backend, () => k.maxCols(a, rows, cols, out));
      assertSameBits(out, expected, `${backend} maxCols ${rows}x${cols}`);
    }
    const byColumn = new Float64Array(cols).map((_, j) =>
      Math.max(...Array.from({ length: rows }, (_, i) => a[i * cols + j]))
    );
    const out = new Float64Array(cols).fill(7);
    k.maxRows(a, rows, cols, out);
    assertSameBits(out, byColumn, `maxRows ${rows}x${cols}`);
    assert.ok(Object.is(k.maxAll(a), Math.max(...a)), `maxAll ${rows}x${cols}`);
  }
  // Row 0 holds -0s and one +0 (max: +0), row 1 only -0s; 2x20 is big enough for WASM.
  const zeros = new Float64Array(40).fill(-0), out = new Float64Array(2);
  zeros[13] = 0;
  if (!noWasm) assert.ok(wasm!.maxCols(zeros, 2, 20, out), "the WASM kernel runs");
  for (const backend of noWasm ? ["ts" as const] : ["ts" as const, "wasm" as const]) {
    using(backend, () => k.maxCols(zeros, 2, 20, out));
    assertSameBits(out, new Float64Array([0, -0]), `${backend} signed zeros`);
  }
});
