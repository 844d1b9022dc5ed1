// The seeded random number generator every draw comes from (xoshiro128** seeded with splitmix32).

/** A seeded source of random numbers; the same seed always gives the same sequence. */
export interface Rng {
  /**
   * A uniform float in [0, 1) with 53 random bits, built from two 32-bit outputs.
   *
   * @example
   * ```ts
   * import { createRng } from "./random.ts";
   * import assert from "node:assert/strict";
   * const u = createRng(1).next();
   * assert.ok(u >= 0 && u < 1);
   * ```
   */
  next(): number;
  /**
   * A standard normal draw (mean 0, variance 1) by the Box–Muller transform. Each pair of
   * uniforms gives two normals; the second is kept for the next call.
   *
   * @example
   * ```ts
   * import { createRng } from "./random.ts";
   * import assert from "node:assert/strict";
   * assert.equal(createRng(3).normal(), createRng(3).normal());
   * ```
   */
  normal(): number;
  /**
   * A uniform integer in [0, n), without modulo bias (rejection sampling). `n` must be an
   * integer from 1 to 2^32.
   *
   * @example
   * ```ts
   * import { createRng } from "./random.ts";
   * import assert from "node:assert/strict";
   * const k = createRng(5).randint(10);
   * assert.ok(Number.isInteger(k) && k >= 0 && k < 10);
   * ```
   */
  randint(n: number): number;
  /**
   * A copy of the generator's whole state: the four xoshiro128** words and the normal draw kept
   * for the next {@linkcode Rng.normal} call. Plain data (JSON-safe), for checkpoints.
   *
   * @example Save and restore
   * ```ts
   * import { createRng } from "./random.ts";
   * import assert from "node:assert/strict";
   * const a = createRng(7);
   * a.normal();
   * const saved = a.getState();
   * const b = createRng(0);
   * b.setState(saved);
   * assert.deepEqual([a.next(), a.normal()], [b.next(), b.normal()]);
   * ```
   */
  getState(): RngState;
  /**
   * Puts the generator in a state from {@linkcode Rng.getState}: the draws that follow are
   * those that followed when the state was taken.
   *
   * @throws {TypeError} If `state` is not such a state.
   *
   * @example
   * ```ts
   * import { createRng } from "./random.ts";
   * import assert from "node:assert/strict";
   * const a = createRng(1), b = createRng(2);
   * b.setState(a.getState());
   * assert.equal(a.randint(100), b.randint(100));
   * ```
   */
  setState(state: RngState): void;
}

/** The whole state of an {@linkcode Rng}, as plain data. */
export interface RngState {
  /** xoshiro128**'s four state words, as unsigned 32-bit integers. */
  words: [number, number, number, number];
  /** The second normal of the last Box–Muller pair, when it is kept for the next call. */
  spare: number | null;
}

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

/**
 * Creates a generator using **xoshiro128\*\*** (Blackman and Vigna, 2018): 128 bits of state,
 * 32-bit outputs, computed with `Math.imul` and 32-bit integer arithmetic. The state is
 * filled from the seed with **splitmix32**: one stream starts from the low 32 bits of the
 * seed, one from the high bits, and each state word xors one output of each.
 *
 * Same seed, same calls: the same numbers, bit for bit, on every platform.
 *
 * @param seed Any finite integer.
 * @throws {RangeError} If `seed` is not a finite integer.
 *
 * @example Reproducible draws
 * ```ts
 * import { createRng } from "./random.ts";
 * import assert from "node:assert/strict";
 *
 * const a = createRng(42);
 * const b = createRng(42);
 * assert.deepEqual([a.next(), a.normal(), a.randint(6)], [b.next(), b.normal(), b.randint(6)]);
 * ```
 */
export function createRng(seed: number): Rng {
  if (typeof seed !== "number" || !Number.isInteger(seed)) {
    throw new RangeError(`createRng: seed must be a finite integer, got ${String(seed)}`);
  }
  const generator = xoshiro128ss(seedState(seed));
  const uint32 = generator.next;
  const next = (): number => ((uint32() >>> 5) * 67108864 + (uint32() >>> 6)) / TWO_53;
  let spare = 0;
  let hasSpare = false;
  let lastN = NaN, reject = 0; // randint's last valid n (NaN: none yet) and its threshold
  return {
    next,
    normal(): number {
      if (hasSpare) {
        hasSpare = false;
        return spare;
      }
      const r = Math.sqrt(-2 * Math.log(1 - next())); // 1 - u is in (0, 1]: no log(0)
      const theta = 2 * Math.PI * next();
      spare = r * Math.sin(theta);
      hasSpare = true;
      return r * Math.cos(theta);
    },
    randint(n: number): number {
      // A batch draws many times from the same n: its check and threshold are kept.
      if (n !== lastN) {
        if (!Number.isInteger(n) || n < 1 || n > TWO_32) {
          throw new RangeError(`Rng.randint: n must be an integer from 1 to 2^32, got ${n}`);
        }
        lastN = n;
        // Drop the lowest 2^32 mod n outputs so every residue is equally likely.
        reject = TWO_32 % n;
      }
      let u = uint32();
      while (u < reject) u = uint32();
      return u % n;
    },
    getState(): RngState {
      const [a, b, c, d] = generator.state();
      return { words: [a >>> 0, b >>> 0, c >>> 0, d >>> 0], spare: hasSpare ? spare : null };
    },
    setState(state: RngState): void {
      const words = state?.words;
      const ok = Array.isArray(words) && words.length === 4 &&
        words.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_32) &&
        (words[0] | words[1] | words[2] | words[3]) !== 0 &&
        (state.spare === null || Number.isFinite(state.spare));
      if (!ok) {
        throw new TypeError(
          "Rng.setState: expected { words: four unsigned 32-bit integers not all 0, " +
            "spare: a number or null }, as getState() returns",
        );
      }
      generator.setState([words[0] | 0, words[1] | 0, words[2] | 0, words[3] | 0]);
      hasSpare = state.spare !== null;
      spare = state.spare ?? 0;
    },
  };
}

/** xoshiro128**'s four 32-bit state words. */
type State = [number, number, number, number];

/**
 * The initial state for `seed`: two splitmix32 streams, one from the low 32 bits of the seed
 * and one from the high bits, xored so every state word depends on both halves.
 */
function seedState(seed: number): State {
  let a = seed >>> 0; // the seed modulo 2^32, exact for any integer
  let b = (Math.floor(seed / TWO_32) >>> 0) ^ 0x6a09e667; // a constant keeps the streams apart
  const word = (): number => {
    a = (a + 0x9e3779b9) | 0;
    b = (b + 0x9e3779b9) | 0;
    return splitmix32(a) ^ splitmix32(b);
  };
  const state: State = [word(), word(), word(), word()];
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1; // all-zero is a fixed point
  return state;
}

/** splitmix32's output function for one counter value. */
function splitmix32(counter: number): number {
  let z = counter;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return z ^ (z >>> 15);
}

/**
 * A xoshiro128** generator over `state`: each `next()` advances it and returns an unsigned
 * 32-bit output; `state`/`setState` read and replace the four words.
 */
function xoshiro128ss(
  state: State,
): { next: () => number; state: () => State; setState: (s: State) => void } {
  let [s0, s1, s2, s3] = state;
  const state_ = (): State => [s0, s1, s2, s3];
  const setState = (s: State) => [s0, s1, s2, s3] = s;
  const next = (): number => {
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  };
  return { next, state: state_, setState };
}

/**
 * `k` distinct integers drawn uniformly from [0, n), in the order drawn: the first `k` steps
 * of a Fisher–Yates shuffle of 0..n-1, one {@linkcode Rng.randint} call each (`randint(n)`,
 * then `randint(n - 1)`, and so on), so the same generator state gives the same sample.
 *
 * @param n The population size, a non-negative integer.
 * @param k How many to draw, an integer in [0, n]; 0 draws nothing from `rng`.
 * @throws {RangeError} If `n` or `k` is not an integer in range.
 *
 * @example Pick 3 of 10 rows
 * ```ts
 * import { createRng, sampleWithoutReplacement } from "./random.ts";
 * import assert from "node:assert/strict";
 *
 * const picked = sampleWithoutReplacement(createRng(0), 10, 3);
 * assert.equal(new Set(picked).size, 3);
 * assert.ok(picked.every((i) => Number.isInteger(i) && i >= 0 && i < 10));
 * assert.deepEqual(sampleWithoutReplacement(createRng(0), 10, 3), picked);
 * ```
 */
export function sampleWithoutReplacement(rng: Rng, n: number, k: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`sampleWithoutReplacement: n must be a non-negative integer, got ${n}`);
  }
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new RangeError(`sampleWithoutReplacement: k must be an integer from 0 to ${n}, got ${k}`);
  }
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.randint(n - i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, k);
}

/**
 * Shuffles `items` in place and returns them: a Fisher–Yates shuffle from the end, one
 * {@linkcode Rng.randint} call per position (`randint(n)`, then `randint(n - 1)`, … down to
 * `randint(2)`), so the same generator state gives the same order.
 *
 * @example
 * ```ts
 * import { createRng, shuffle } from "./random.ts";
 * import assert from "node:assert/strict";
 *
 * const order = shuffle(createRng(0), [0, 1, 2, 3, 4]);
 * assert.deepEqual([...order].sort(), [0, 1, 2, 3, 4]);
 * assert.deepEqual(shuffle(createRng(0), Int32Array.from([0, 1, 2, 3, 4])), Int32Array.from(order));
 * ```
 */
export function shuffle<A extends { length: number; [i: number]: number }>(rng: Rng, items: A): A {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.randint(i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}
