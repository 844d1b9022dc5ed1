// Checkpoints of a training run: everything the step loop needs to continue bit for bit.

import { writeFileAtomic } from "../_fs.ts";
import type { RngState } from "../random.ts";
import type { Sampling } from "./_sampling.ts";

/** One entry of the loss log (the trainer's `LossEntry`, repeated here to avoid a cycle). */
export interface CheckpointLossEntry {
  step: number;
  loss: number;
  validation?: number;
}

/** The early-stopping state: the best parameters so far and how long ago they were. */
export interface BestState {
  /** The lowest validation loss seen (Infinity before the first evaluation). */
  loss: number;
  /** The step it was measured after (0 before the first evaluation). */
  step: number;
  /** Validation evaluations since the best one. */
  since: number;
  /** A copy of the flat parameters at that step. */
  params: Float64Array;
}

/** What a checkpoint holds, in memory. */
export interface Checkpoint {
  /** Steps completed: training continues with step `step + 1`. */
  step: number;
  /** The run's shape, checked on resume. */
  batch: number;
  shards: number;
  rows: number;
  /** {@linkcode dataFingerprint} of the training data, so a resume on other data is refused. */
  data: string;
  sampling: Sampling;
  /** The flat parameters after step `step`. */
  params: Float64Array;
  /** The optimizer's state (`count` and per-element `slots`). */
  optimizer: { count: number; slots: Float64Array[] };
  /** The batch RNG's state. */
  rng: RngState;
  /** The epoch order and position (epochs sampling only). */
  sampler: { order?: Int32Array; position?: number };
  /** Early stopping, when there is validation data. */
  best: BestState | null;
  /** The loss log so far, so a resumed run returns the log of one uninterrupted run. */
  log: CheckpointLossEntry[];
}

const FORMAT = "denograd-train-checkpoint";
const VERSION = 1;

/**
 * Writes `checkpoint` to `path` as JSON (arrays as base64 of their little-endian bytes, so
 * every bit survives), atomically: a temporary file in the same directory renamed over `path`.
 */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const c = checkpoint;
  const json = {
    format: FORMAT,
    version: VERSION,
    step: c.step,
    batch: c.batch,
    shards: c.shards,
    rows: c.rows,
    data: c.data,
    sampling: c.sampling,
    params: toBase64(c.params),
    optimizer: { count: c.optimizer.count, slots: c.optimizer.slots.map(toBase64) },
    rng: c.rng,
    sampler: {
      ...(c.sampler.order ? { order: toBase64(c.sampler.order) } : {}),
      ...(c.sampler.position === undefined ? {} : { position: c.sampler.position }),
    },
    best: c.best && {
      loss: Number.isFinite(c.best.loss) ? c.best.loss : null,
      step: c.best.step,
      since: c.best.since,
      params: toBase64(c.best.params),
    },
    log: c.log,
  };
  await writeFileAtomic(path, JSON.stringify(json) + "\n");
}

/** Reads a checkpoint written by {@linkcode writeCheckpoint}; errors name the file. */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  let json;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new TypeError(`train: resume ${path} is not a checkpoint (not JSON: ${e.message})`);
    }
    if (e instanceof Deno.errors.NotFound) {
      throw new TypeError(`train: resume ${path}: no such file`, { cause: e });
    }
    throw e;
  }
  if (json?.format !== FORMAT || json.version !== VERSION) {
    throw new TypeError(
      `train: resume ${path} is not a checkpoint of this trainer (format ${FORMAT} version ` +
        `${VERSION})`,
    );
  }
  try {
    return {
      step: json.step,
      batch: json.batch,
      shards: json.shards,
      rows: json.rows,
      data: json.data,
      sampling: json.sampling,
      params: f64(json.params),
      optimizer: { count: json.optimizer.count, slots: json.optimizer.slots.map(f64) },
      rng: json.rng,
      sampler: {
        ...(json.sampler.order ? { order: i32(json.sampler.order) } : {}),
        ...(json.sampler.position === undefined ? {} : { position: json.sampler.position }),
      },
      best: json.best && {
        loss: json.best.loss ?? Infinity,
        step: json.best.step,
        since: json.best.since,
        params: f64(json.best.params),
      },
      log: json.log,
    };
  } catch (e) {
    throw new TypeError(`train: resume ${path} is a damaged checkpoint (${(e as Error).message})`);
  }
}

/**
 * A 64-bit hash (as hex) of the bits of the given arrays, from two FNV-1a-style lanes over
 * their 32-bit words: equal data, equal text; other data (another file, split, seed or scaling)
 * almost surely differs.
 */
export function dataFingerprint(...arrays: Float64Array[]): string {
  let a = 0x811c9dc5, b = 0x050c5d1f;
  for (const array of arrays) {
    const words = new Int32Array(array.buffer, array.byteOffset, array.length * 2);
    for (let i = 0; i < words.length; i++) {
      a = Math.imul(a ^ words[i], 0x01000193);
      b = Math.imul(b ^ words[i] ^ (a >>> 15), 0x01000193);
    }
  }
  const hex = (x: number) => (x >>> 0).toString(16).padStart(8, "0");
  return hex(a) + hex(b);
}

function toBase64(a: Float64Array | Int32Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function bytesOf(text: string, size: number): ArrayBuffer {
  const binary = atob(text);
  if (binary.length % size !== 0) throw new RangeError("an array has a partial element");
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

const f64 = (text: string) => new Float64Array(bytesOf(text, 8));
const i32 = (text: string) => new Int32Array(bytesOf(text, 4));
