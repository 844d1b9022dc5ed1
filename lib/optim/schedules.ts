// Learning-rate schedules: functions of the step, usable wherever an optimizer takes `lr`.

import { checkNumber, NON_NEGATIVE, POSITIVE, POSITIVE_INTEGER } from "./_flat.ts";

/**
 * A learning rate as a function of the step: the number of updates already applied (0 for the
 * first update), as in Optax.
 */
export type Schedule = (step: number) => number;

/** A learning rate: a fixed number, or a {@linkcode Schedule}. */
export type LearningRate = number | Schedule;

/**
 * The same rate at every step.
 *
 * @example
 * ```ts
 * import { constantSchedule } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(constantSchedule(0.1)(1000), 0.1);
 * ```
 */
export function constantSchedule(value: number): Schedule {
  checkNumber("constantSchedule", "value", value, NON_NEGATIVE);
  return () => value;
}

/** Options of {@linkcode exponentialDecay}. */
export interface ExponentialDecayOptions {
  /** The rate at step 0. */
  init: number;
  /** The factor applied every `transitionSteps` steps, in (0, 1] to decay. */
  decayRate: number;
  /** Steps per factor of `decayRate` (default 1). */
  transitionSteps?: number;
  /** Decay in whole factors (`floor(step / transitionSteps)`) instead of smoothly (default false). */
  staircase?: boolean;
}

/**
 * `init · decayRate^(step / transitionSteps)` (Optax's `exponential_decay` without its
 * `transition_begin` and `end_value`); with `staircase`, the exponent is floored.
 *
 * @example
 * ```ts
 * import { exponentialDecay } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const lr = exponentialDecay({ init: 1, decayRate: 0.5, transitionSteps: 10 });
 * assert.equal(lr(20), 0.25);
 * ```
 */
export function exponentialDecay(options: ExponentialDecayOptions): Schedule {
  const where = "exponentialDecay";
  const init = checkNumber(where, "init", options.init, NON_NEGATIVE);
  const rate = checkNumber(where, "decayRate", options.decayRate, POSITIVE);
  const every = checkNumber(
    where,
    "transitionSteps",
    options.transitionSteps ?? 1,
    POSITIVE_INTEGER,
  );
  const staircase = options.staircase ?? false;
  return (step) => {
    const p = step / every;
    return init * rate ** (staircase ? Math.floor(p) : p);
  };
}

/** Options of {@linkcode cosineDecay}. */
export interface CosineDecayOptions {
  /** The rate at step 0. */
  init: number;
  /** Steps from `init` down to `alpha · init`; the rate stays there afterwards. */
  decaySteps: number;
  /** The final rate as a fraction of `init` (default 0). */
  alpha?: number;
}

/**
 * Optax's `cosine_decay_schedule`: `init · ((1 − alpha) · ½(1 + cos(π · min(step, decaySteps) /
 * decaySteps)) + alpha)`.
 *
 * @example
 * ```ts
 * import { cosineDecay } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const lr = cosineDecay({ init: 1, decaySteps: 100 });
 * assert.equal(lr(0), 1);
 * assert.equal(lr(100), 0);
 * ```
 */
export function cosineDecay(options: CosineDecayOptions): Schedule {
  const where = "cosineDecay";
  const init = checkNumber(where, "init", options.init, NON_NEGATIVE);
  const steps = checkNumber(where, "decaySteps", options.decaySteps, POSITIVE_INTEGER);
  const alpha = checkNumber(where, "alpha", options.alpha ?? 0, {
    test: (x) => x >= 0 && x <= 1,
    expected: "a number in [0, 1]",
  });
  return (step) => {
    const cosine = 0.5 * (1 + Math.cos(Math.PI * Math.min(step, steps) / steps));
    return init * ((1 - alpha) * cosine + alpha);
  };
}

/** Options of {@linkcode linearWarmup}. */
export interface LinearWarmupOptions {
  /** The rate at step 0 (default 0). */
  init?: number;
  /** The rate reached at `warmupSteps` and kept afterwards. */
  peak: number;
  /** Steps from `init` to `peak`. */
  warmupSteps: number;
}

/**
 * Optax's `linear_schedule`: `init + (peak − init) · min(step, warmupSteps) / warmupSteps`.
 *
 * @example
 * ```ts
 * import { linearWarmup } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const lr = linearWarmup({ peak: 0.1, warmupSteps: 10 });
 * assert.deepEqual([lr(0), lr(5), lr(50)], [0, 0.05, 0.1]);
 * ```
 */
export function linearWarmup(options: LinearWarmupOptions): Schedule {
  const where = "linearWarmup";
  const init = checkNumber(where, "init", options.init ?? 0, NON_NEGATIVE);
  const peak = checkNumber(where, "peak", options.peak, NON_NEGATIVE);
  const steps = checkNumber(where, "warmupSteps", options.warmupSteps, POSITIVE_INTEGER);
  return (step) => init + (peak - init) * Math.min(step, steps) / steps;
}

/**
 * Optax's `join_schedules`: `schedules[0]` until `boundaries[0]`, then `schedules[1]` counted
 * from 0 again at that boundary, and so on. Warm-up then decay is
 * `joinSchedules([linearWarmup(…), cosineDecay(…)], [warmupSteps])`.
 *
 * @example
 * ```ts
 * import { cosineDecay, joinSchedules, linearWarmup } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const lr = joinSchedules([
 *   linearWarmup({ peak: 1, warmupSteps: 10 }),
 *   cosineDecay({ init: 1, decaySteps: 90 }),
 * ], [10]);
 * assert.deepEqual([lr(5), lr(10), lr(100)], [0.5, 1, 0]);
 * ```
 */
export function joinSchedules(
  schedules: readonly Schedule[],
  boundaries: readonly number[],
): Schedule {
  const where = "joinSchedules";
  if (!Array.isArray(schedules) || !schedules.every((s) => typeof s === "function")) {
    throw new TypeError(`${where}: schedules must be an array of functions`);
  }
  if (!Array.isArray(boundaries) || boundaries.length !== schedules.length - 1) {
    throw new RangeError(
      `${where}: boundaries must have one entry fewer than schedules (${schedules.length - 1}), ` +
        `got ${Array.isArray(boundaries) ? boundaries.length : String(boundaries)}`,
    );
  }
  boundaries.forEach((b, i) => {
    const previous = i === 0 ? 0 : boundaries[i - 1];
    checkNumber(where, `boundaries[${i}]`, b, {
      test: (x) => Number.isInteger(x) && x > previous,
      expected: `an integer above ${previous}`,
    });
  });
  return (step) => {
    let i = 0;
    while (i < boundaries.length && step >= boundaries[i]) i++;
    return schedules[i](i === 0 ? step : step - boundaries[i - 1]);
  };
}

/** Resolves `lr` to a function of the step, checking a number once and a schedule per call. */
export function toRate(where: string, lr: unknown): Schedule {
  if (typeof lr === "function") {
    return (step) => {
      const value = lr(step);
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new RangeError(
          `${where}: the lr schedule returned ${String(value)} at step ${step}; ` +
            "expected a finite number >= 0",
        );
      }
      return value;
    };
  }
  const value = checkNumber(where, "lr", lr, {
    test: NON_NEGATIVE.test,
    expected: `${NON_NEGATIVE.expected} or a schedule`,
  });
  return () => value;
}
