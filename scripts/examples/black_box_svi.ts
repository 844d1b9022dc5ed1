// HIPS autograd's examples/black_box_svi.py in denograd: black-box stochastic variational
// inference (Ranganath et al., 2014, with the reparameterization trick) fitting a diagonal
// Gaussian to a 2-D "funnel" density by Adam on a 2000-sample estimate of the lower bound.
// The maths, the start (means −1, log stds −5), Adam (step 0.1) and the 2000 iterations are
// the original's; the samples come from denograd's seeded generator, not numpy's, so the
// printed bounds differ draw by draw but converge to the same optimum. The original prints the
// bound every iteration and redraws the contours; this prints it every 100th (`--every N`),
// then the fitted parameters next to the exact optimum, which for this density is known in
// closed form (means 0, log stds −1/(2 + 1/1.35²) and −½·log(2 + 1/1.35²)).
//
//   deno run scripts/examples/black_box_svi.ts [--iterations 2000] [--every 100]

import {
  adam,
  add,
  applyUpdates,
  createRng,
  div,
  exp,
  grad,
  log,
  Matrix,
  mean,
  mul,
  neg,
  type Rng,
  slice,
  square,
  sub,
  sum,
  type Tensor,
} from "../../mod.ts";

const LOG_2PI = Math.log(2 * Math.PI);

/** log N(x; mu, sigma²), element-wise: scipy's `norm.logpdf` written with log and square. */
export function normLogpdf(x: Tensor, mu: Tensor, sigma: Tensor): Tensor {
  return sub(mul(-0.5, square(div(sub(x, mu), sigma))), add(log(sigma), 0.5 * LOG_2PI));
}

/** The funnel's unnormalized log-density at each row [mu, log sigma] of x (a column). */
export function logDensity(x: Tensor, _t: number): Tensor {
  const mu = slice(x, { cols: [0, 1] }), logSigma = slice(x, { cols: [1, 2] });
  const sigmaDensity = normLogpdf(logSigma, 0, 1.35);
  const muDensity = normLogpdf(mu, 0, exp(logSigma));
  return add(sigmaDensity, muDensity);
}

/**
 * The variational objective (minus a stochastic estimate of the lower bound) of a diagonal
 * Gaussian with params = [means, log stds] (a 1×2D row), drawing `numSamples` samples from
 * `rng` per call, and its gradient.
 */
export function blackBoxVariationalInference(
  logprob: (x: Tensor, t: number) => Tensor,
  D: number,
  numSamples: number,
  rng: Rng,
) {
  const unpackParams = (params: Tensor) => ({
    mean: slice(params, { cols: [0, D] }),
    logStd: slice(params, { cols: [D, 2 * D] }),
  });
  const gaussianEntropy = (logStd: Tensor) => add(0.5 * D * (1 + LOG_2PI), sum(logStd));
  const variationalObjective = (params: Tensor, t: number): Tensor => {
    const { mean: mu, logStd } = unpackParams(params);
    const samples = add(mul(Matrix.randomNormal(numSamples, D, rng), exp(logStd)), mu);
    const lowerBound = add(gaussianEntropy(logStd), mean(logprob(samples, t)));
    return neg(lowerBound);
  };
  return { variationalObjective, gradient: grad(variationalObjective), unpackParams };
}

/**
 * The exact lower bound of N(mean, diag(exp(2·logStd))) for the funnel (the expectations have
 * closed forms), to judge the fit without sampling noise.
 */
export function exactLowerBound(params: ArrayLike<number>): number {
  const [m1, m2, l1, l2] = Array.from(params), s1 = Math.exp(l1), s2 = Math.exp(l2);
  const c = 1.35;
  const sigmaPart = -0.5 * (m2 * m2 + s2 * s2) / (c * c) - Math.log(c) - 0.5 * LOG_2PI;
  const muPart = -0.5 * (m1 * m1 + s1 * s1) * Math.exp(-2 * m2 + 2 * s2 * s2) - m2 -
    0.5 * LOG_2PI;
  return sigmaPart + muPart + (1 + LOG_2PI) + l1 + l2;
}

/** The optimum of {@linkcode exactLowerBound}: [0, 0, −s², ½·log s²] with s² = 1/(2 + 1/1.35²). */
export function exactOptimum(): number[] {
  const s2 = 1 / (2 + 1 / (1.35 * 1.35));
  return [0, 0, -s2, 0.5 * Math.log(s2)];
}

/** What {@linkcode run} found. */
export interface SviResult {
  params: Matrix;
  /** [iteration, sampled lower bound] every `every` iterations. */
  bounds: [number, number][];
}

/** Runs Adam (step 0.1) for `iterations` steps from means −1 and log stds −5. */
export function run(
  { iterations = 2000, every = 100, seed = 0, onBound }: {
    iterations?: number;
    every?: number;
    seed?: number;
    onBound?: (t: number, bound: number) => void;
  } = {},
): SviResult {
  const D = 2;
  const rng = createRng(seed);
  const { variationalObjective, gradient } = blackBoxVariationalInference(
    logDensity,
    D,
    2000,
    rng,
  );
  let params = Matrix.from([[-1, -1, -5, -5]]);
  const optimizer = adam({ lr: 0.1 });
  let state = optimizer.init(params);
  const bounds: [number, number][] = [];
  for (let t = 0; t < iterations; t++) {
    const g = gradient(params, t);
    if (t % every === 0) { // the original's callback: a fresh estimate at the current params
      const bound = -(variationalObjective(params, t) as number);
      bounds.push([t, bound]);
      onBound?.(t, bound);
    }
    let updates;
    [updates, state] = optimizer.update(g, state);
    params = applyUpdates(params, updates);
  }
  return { params, bounds };
}

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(Deno.args[i + 1]);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`${name} needs a positive integer, got ${Deno.args[i + 1]}`);
    Deno.exit(2);
  }
  return value;
}

if (import.meta.main) {
  const iterations = flag("--iterations", 2000), every = flag("--every", 100);
  console.log("Optimizing variational parameters...");
  const { params } = run({
    iterations,
    every,
    onBound: (t, bound) => console.log(`Iteration ${t} lower bound ${bound}`),
  });
  const fmt = (v: ArrayLike<number>) => `[${Array.from(v, (x) => x.toFixed(4)).join(", ")}]`;
  console.log(`Fitted [means, log stds]: ${fmt(params.data)}`);
  console.log(`Exact optimum:            ${fmt(exactOptimum())}`);
  console.log(
    `Exact lower bound: ${exactLowerBound(params.data).toFixed(6)} (optimum ${
      exactLowerBound(exactOptimum()).toFixed(6)
    })`,
  );
}
