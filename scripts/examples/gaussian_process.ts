// HIPS autograd's examples/gaussian_process.py in denograd: Gaussian-process regression with
// an RBF kernel, its mean, noise and kernel parameters fitted by maximizing the log marginal
// likelihood. Same toy data as the original: its noise is numpy's `RandomState(0).randn(20)`,
// copied below, and its starting point 0.1·`RandomState(0).randn(4)` is the first four of
// those. The original runs scipy's conjugate gradients (method "CG") and plots the posterior
// after each iteration; denograd's `minimize` has no CG, so this uses its L-BFGS and prints
// the log likelihood before and after, then the posterior mean ± 1.96 standard deviations at
// a few of the plot's points. Both reach log likelihood 18.9049047173…
//
//   deno run scripts/examples/gaussian_process.ts

import {
  add,
  div,
  exp,
  logdet,
  matmul,
  Matrix,
  minimize,
  mul,
  neg,
  slice,
  solve,
  square,
  sub,
  type Tensor,
  type Traced,
  transpose,
} from "../../mod.ts";

/** numpy's `RandomState(0).randn(20)`, the noise of the original's toy dataset. */
export const NOISE = [
  1.764052345967664,
  0.4001572083672233,
  0.9787379841057392,
  2.240893199201458,
  1.8675579901499675,
  -0.977277879876411,
  0.9500884175255894,
  -0.1513572082976979,
  -0.10321885179355784,
  0.41059850193837233,
  0.144043571160878,
  1.454273506962975,
  0.7610377251469934,
  0.12167501649282841,
  0.44386323274542566,
  0.33367432737426683,
  1.4940790731576061,
  -0.20515826376580087,
  0.31306770165090136,
  -0.8540957393017248,
];

/** `count` evenly spaced numbers from `start` to `stop` inclusive (numpy's `linspace`). */
export function linspace(start: number, stop: number, count: number): number[] {
  const step = (stop - start) / (count - 1);
  return Array.from({ length: count }, (_, i) => i === count - 1 ? stop : start + i * step);
}

/** The toy dataset: 20 inputs (a column) in two clusters, and noisy cos(x)/2 targets. */
export function buildToyDataset(noiseStd = 0.1): { inputs: Matrix; targets: Matrix } {
  const x = [...linspace(0, 3, 10), ...linspace(6, 8, 10)];
  const targets = x.map((v, i) => [(Math.cos(v) + NOISE[i] * noiseStd) / 2]);
  return { inputs: Matrix.from(x.map((v) => [(v - 4) / 2])), targets: Matrix.from(targets) };
}

const at = (p: Tensor, i: number, j = i + 1) => slice(p, { cols: [i, j] });
/** The columns of a matrix, traced or not. */
const colsOf = (t: Tensor) => (t as Matrix | Traced).shape?.[1] ?? 1;

/** The RBF covariance between the rows of x and xp; kernelParams = [log scale, log lengthscales…]. */
export function rbfCovariance(kernelParams: Tensor, x: Tensor, xp: Tensor): Tensor {
  const outputScale = exp(at(kernelParams, 0));
  const dims = colsOf(x);
  let sq: Tensor = 0;
  for (let d = 0; d < dims; d++) {
    const lengthscale = exp(at(kernelParams, d + 1));
    const column = (m: Tensor) => div(slice(m, { cols: [d, d + 1] }), lengthscale);
    sq = add(sq, square(sub(column(x), transpose(column(xp)))));
  }
  return mul(outputScale, exp(mul(-0.5, sq)));
}

/** params = [mean, log noise, kernel params…] as a row. */
function unpackKernelParams(params: Tensor) {
  const cols = colsOf(params);
  return {
    mean: at(params, 0),
    covParams: at(params, 2, cols),
    noiseScale: add(exp(at(params, 1)), 0.0001),
  };
}

function covYY(covParams: Tensor, noiseScale: Tensor, x: Matrix): Tensor {
  return add(rbfCovariance(covParams, x, x), mul(noiseScale, Matrix.eye(x.rows)));
}

/** The predictive mean (a column) and covariance of the latent function at the rows of xstar. */
export function predict(params: Tensor, x: Matrix, y: Matrix, xstar: Matrix): [Matrix, Matrix] {
  const { mean, covParams, noiseScale } = unpackKernelParams(params);
  const covFF = rbfCovariance(covParams, xstar, xstar);
  const covYF = rbfCovariance(covParams, x, xstar);
  const k = solve(covYY(covParams, noiseScale, x), covYF);
  const predMean = add(mean, matmul(transpose(k), sub(y, mean)));
  const predCov = sub(covFF, matmul(transpose(k), covYF));
  return [predMean as Matrix, predCov as Matrix];
}

/** log N(y; mean·1, K): scipy's `multivariate_normal.logpdf` written with solve and logdet. */
export function logMarginalLikelihood(params: Tensor, x: Matrix, y: Matrix): Tensor {
  const { mean, covParams, noiseScale } = unpackKernelParams(params);
  const cov = covYY(covParams, noiseScale, x);
  const r = sub(y, mean);
  const quadratic = matmul(transpose(r), solve(cov, r));
  return mul(-0.5, add(add(y.rows * Math.log(2 * Math.PI), logdet(cov)), quadratic));
}

/** What {@linkcode run} found. */
export interface GaussianProcessResult {
  initialLogLikelihood: number;
  logLikelihood: number;
  params: Matrix;
  iterations: number;
  converged: boolean;
  x: Matrix;
  y: Matrix;
}

/** Fits [mean, log noise, log output scale, log lengthscale] from 0.1·randn(4). */
export function run(): GaussianProcessResult {
  const { inputs: x, targets: y } = buildToyDataset();
  const objective = (params: Tensor) => neg(logMarginalLikelihood(params, x, y));
  const initParams = Matrix.from([NOISE.slice(0, 4).map((v) => 0.1 * v)]);
  const scalar = (t: Tensor) => typeof t === "number" ? t : (t as Matrix).data[0];
  const result = minimize(objective, initParams);
  return {
    initialLogLikelihood: -scalar(objective(initParams)),
    logLikelihood: -result.value,
    params: result.x,
    iterations: result.iterations,
    converged: result.converged,
    x,
    y,
  };
}

if (import.meta.main) {
  console.log("Optimizing covariance parameters...");
  const { initialLogLikelihood, logLikelihood, params, iterations, x, y } = run();
  console.log(`Log likelihood ${initialLogLikelihood} (start)`);
  console.log(`Log likelihood ${logLikelihood} (after ${iterations} L-BFGS iterations)`);
  const [mean, logNoise, logScale, logLength] = params.data;
  console.log(
    `mean ${mean.toFixed(6)}, noise ${(Math.exp(logNoise) + 0.0001).toExponential(4)}, ` +
      `output scale ${Math.exp(logScale).toFixed(6)}, lengthscale ${
        Math.exp(logLength).toFixed(6)
      }`,
  );
  const plotXs = linspace(-7, 7, 300);
  const [predMean, predCov] = predict(params, x, y, Matrix.from(plotXs.map((v) => [v])));
  console.log("         x   posterior mean ± 1.96 std");
  for (let i = 0; i < 300; i += 25) {
    const std = Math.sqrt(predCov.get(i, i));
    console.log(
      `${plotXs[i].toFixed(4).padStart(10)}   ${predMean.data[i].toFixed(4).padStart(7)} ± ` +
        (1.96 * std).toFixed(4),
    );
  }
}
