// The batches: row indices drawn with replacement, or epochs over a seeded shuffle.

import type { Rng } from "../random.ts";

/** How the rows of each batch are chosen; see `TrainOptions.sampling`. */
export type Sampling = "replacement" | "epochs";

/** Where a sampler is, as plain data (for checkpoints). */
export interface SamplerState {
  /** The current epoch's order of the rows (epochs only). */
  order?: Int32Array;
  /** The next unused position in `order` (epochs only). */
  position?: number;
}

/** Writes each step's batch of row indices; all randomness comes from `rng`. */
export interface Sampler {
  /** Fills `indices` (one batch) with the next batch's rows. */
  fill(indices: Int32Array): void;
  /** A copy of the sampler's own state (the RNG's is saved apart). */
  state(): SamplerState;
  /** Restores a state from {@linkcode Sampler.state}. */
  restore(state: SamplerState): void;
}

/**
 * Batches of `batch` rows out of `rows`. `"replacement"`: each index is `rng.randint(rows)`,
 * the trainer's protocol since the start. `"epochs"`: at the start of each epoch the rows
 * 0..rows-1 are shuffled (Fisher–Yates from the identity, `randint` of the remaining count
 * each), then consecutive batches are cut from that order; the last `rows mod batch` rows of
 * the order do not fit a whole batch and are left out of that epoch (as PyTorch's
 * `drop_last=True`), so every step has the same batch size; the next shuffle leaves out others.
 */
export function createSampler(
  sampling: Sampling,
  rows: number,
  batch: number,
  rng: Rng,
): Sampler {
  if (sampling === "replacement") {
    return {
      fill(indices) {
        for (let i = 0; i < batch; i++) indices[i] = rng.randint(rows);
      },
      state: () => ({}),
      restore() {},
    };
  }
  const order = new Int32Array(rows);
  let position = rows; // the first fill shuffles
  return {
    fill(indices) {
      if (position + batch > rows) {
        for (let i = 0; i < rows; i++) order[i] = i;
        for (let i = 0; i < rows - 1; i++) {
          const j = i + rng.randint(rows - i);
          const t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
        position = 0;
      }
      indices.set(order.subarray(position, position + batch));
      position += batch;
    },
    state: () => ({ order: order.slice(), position }),
    restore(state) {
      if (!(state.order instanceof Int32Array) || state.order.length !== rows) {
        throw new TypeError(`the checkpoint's epoch order does not hold ${rows} rows`);
      }
      order.set(state.order);
      position = state.position ?? rows;
    },
  };
}

/** Whole batches in an epoch of `rows` rows. */
export function stepsPerEpoch(rows: number, batch: number): number {
  return Math.floor(rows / batch);
}
