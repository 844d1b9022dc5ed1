// A line search for the strong Wolfe conditions (Nocedal & Wright, Algorithms 3.5 and 3.6).

/** A point where the objective was evaluated: `f` is Infinity where it or its gradient is not finite. */
export interface Point {
  x: Float64Array;
  f: number;
  g: Float64Array;
}

/** A trial step along the search direction. */
interface Trial extends Point {
  alpha: number;
  /** The directional derivative `g · d` at the trial point. */
  slope: number;
}

/** Sufficient decrease (Armijo) and curvature constants, as scipy's and N&W's defaults. */
const C1 = 1e-4, C2 = 0.9;
const MAX_TRIALS = 40;
/**
 * Hager and Zhang's approximate Wolfe conditions apply where the predicted decrease `α|∇f·d|`
 * and the actual one are below this fraction of |f(x)|: rounding noise.
 */
const FLAT = 1e-12;
/** …and accept a slope between `C2·∇f·d` and `−(1 − 2·DELTA)·∇f·d` there. */
const DELTA = 0.1;

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * A step `alpha` along the descent direction `d` from `start` that satisfies the strong Wolfe
 * conditions `f(x + αd) ≤ f(x) + c₁α∇f·d` and `|∇f(x + αd)·d| ≤ c₂|∇f(x)·d|`, or, where f is
 * flat to rounding, the approximate Wolfe conditions on the slope alone; failing the second
 * after MAX_TRIALS trials, the best step with sufficient decrease; `undefined` if there is none
 * (or `d` is not a descent direction).
 */
export function wolfeLineSearch(
  evaluate: (x: Float64Array) => Point,
  start: Point,
  d: Float64Array,
  alpha0: number,
): Point | undefined {
  const slope0 = dot(start.g, d);
  if (!(slope0 < 0)) return undefined;
  const trial = (alpha: number): Trial => {
    const x = start.x.map((xi, i) => xi + alpha * d[i]);
    const p = evaluate(x);
    return { ...p, alpha, slope: Number.isFinite(p.f) ? dot(p.g, d) : NaN };
  };
  const armijo = (t: Trial) => t.f <= start.f + C1 * t.alpha * slope0;
  const curvature = (t: Trial) => Math.abs(t.slope) <= -C2 * slope0;
  // Near a minimum f stops resolving decreases before the gradient is small; the slope still
  // does (Hager & Zhang 2005, the approximate Wolfe conditions).
  const noise = FLAT * Math.abs(start.f);
  const approximate = (t: Trial) =>
    -t.alpha * slope0 <= noise && t.f <= start.f + noise && t.slope >= C2 * slope0 &&
    t.slope <= -(1 - 2 * DELTA) * slope0;
  let previous: Trial = { ...start, alpha: 0, slope: slope0 };
  let alpha = alpha0;
  for (let i = 0; i < MAX_TRIALS; i++) {
    const current = trial(alpha);
    if (approximate(current)) return current;
    if (!armijo(current) || (i > 0 && current.f >= previous.f)) {
      return zoom(trial, armijo, curvature, approximate, previous, current);
    }
    if (curvature(current)) return current;
    if (current.slope >= 0) return zoom(trial, armijo, curvature, approximate, current, previous);
    previous = current;
    alpha *= 2;
  }
  return previous.alpha > 0 ? previous : undefined;
}

/** Narrows `[lo, hi]` (lo satisfies sufficient decrease, with the lower f) to a Wolfe step. */
function zoom(
  trial: (alpha: number) => Trial,
  armijo: (t: Trial) => boolean,
  curvature: (t: Trial) => boolean,
  approximate: (t: Trial) => boolean,
  lo: Trial,
  hi: Trial,
): Point | undefined {
  for (let i = 0; i < MAX_TRIALS; i++) {
    const current = trial(interpolate(lo, hi));
    if (approximate(current)) return current;
    if (!armijo(current) || current.f >= lo.f) hi = current;
    else {
      if (curvature(current)) return current;
      if (current.slope * (hi.alpha - lo.alpha) >= 0) hi = lo;
      lo = current;
    }
    if (Math.abs(hi.alpha - lo.alpha) <= 1e-14 * Math.max(lo.alpha, hi.alpha)) break;
  }
  return lo.alpha > 0 ? lo : undefined;
}

/**
 * The minimiser of the cubic through both ends' values and slopes (N&W eq. 3.59), kept at least
 * a tenth of the interval from either end; the midpoint when the cubic gives nothing usable.
 */
function interpolate(a: Trial, b: Trial): number {
  const mid = (a.alpha + b.alpha) / 2;
  const width = Math.abs(b.alpha - a.alpha);
  if (!Number.isFinite(a.f) || !Number.isFinite(b.f)) return mid;
  const d1 = a.slope + b.slope - 3 * (a.f - b.f) / (a.alpha - b.alpha);
  const radicand = d1 * d1 - a.slope * b.slope;
  if (!(radicand >= 0)) return mid;
  const d2 = Math.sign(b.alpha - a.alpha) * Math.sqrt(radicand);
  const alpha = b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2);
  const low = Math.min(a.alpha, b.alpha) + 0.1 * width;
  const high = Math.max(a.alpha, b.alpha) - 0.1 * width;
  return alpha >= low && alpha <= high ? alpha : mid;
}
