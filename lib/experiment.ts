// The pulsar experiment as a function: a typed config in, the metrics and the trained model out.

import denoJson from "../deno.json" with { type: "json" };
import { DataError, type LabeledData, loadLabeledCsv, oneHot } from "./data/csv.ts";
import {
  fitStandardizer,
  type Split,
  standardize,
  type Standardizer,
  stratifiedSplit,
  takeRows,
} from "./data/preprocess.ts";
import { type ClassificationMetrics, classificationMetrics, predictClasses } from "./nn/metrics.ts";
import { initMLP } from "./nn/mlp.ts";
import type { Matrix } from "./matrix.ts";
import type { SavedModel } from "./nn/model_io.ts";
import { createRng, type Rng } from "./random.ts";
import { type LossEntry, train, type TrainOptions, type TrainResult } from "./train/train.ts";
import { adam, adamw, type Optimizer, rmsprop, sgd } from "./optim/optimizers.ts";
import {
  cosineDecay,
  exponentialDecay,
  joinSchedules,
  type LearningRate,
  linearWarmup,
} from "./optim/schedules.ts";

/** The optimizers an experiment can name; see {@linkcode ExperimentConfig.optimizer}. */
export const OPTIMIZERS = ["sgd", "momentum", "rmsprop", "adam", "adamw"] as const;
/** An optimizer by name. */
export type OptimizerName = typeof OPTIMIZERS[number];
/** The learning-rate schedules an experiment can name; see {@linkcode ExperimentConfig.lrSchedule}. */
export const LR_SCHEDULES = ["constant", "cosine", "exponential", "warmup-cosine"] as const;
/** A learning-rate schedule by name. */
export type LrScheduleName = typeof LR_SCHEDULES[number];

/** Everything an experiment depends on; recorded in its metrics. */
export interface ExperimentConfig {
  /** Path of the labelled CSV (also the name used in messages when the data is given). */
  data: string;
  /** Label column: its name, its 1-based position, or `null` for the last column. */
  label: string | number | null;
  /**
   * Whether the file's first row is a header (default true). Without one the columns are
   * named "column 1", "column 2", … and the label is the last unless `label` says otherwise.
   */
  header?: boolean;
  /** Layer sizes, inputs first: the first must equal the features, the last the classes. */
  layers: number[];
  /** Learning rate, above 0 (the peak rate of a schedule). */
  lr: number;
  /**
   * The optimizer (default `"sgd"`, plain SGD, the published experiment): `"momentum"` is SGD
   * with momentum 0.9; `"rmsprop"` (decay 0.9, eps 1e-8), `"adam"` (β 0.9, 0.999, eps 1e-8)
   * and `"adamw"` (the same with weight decay 0.01) use lib/optim's defaults.
   */
  optimizer?: OptimizerName;
  /**
   * The learning rate over the run's T steps (default `"constant"`): `"cosine"` decays from
   * `lr` to 0 by a half cosine over T steps; `"exponential"` decays smoothly from `lr` to
   * `lr / 10` at step T; `"warmup-cosine"` rises linearly from 0 to `lr` over the first 5% of
   * the steps (at least 1), then decays by a half cosine to 0 at step T.
   */
  lrSchedule?: LrScheduleName;
  /** Rows per step. */
  batch: number;
  /** Number of steps, batches drawn with replacement; unused when `epochs` is set. */
  steps: number;
  /**
   * Epochs over a seeded shuffle of the training rows without replacement (the last
   * `rows mod batch` rows of each shuffle sit that epoch out), instead of `steps` batches drawn
   * with replacement; `null` (default) for the latter.
   */
  epochs?: number | null;
  /**
   * Fraction of the training rows held out (stratified, seeded) as validation data, in
   * [0, 1); 0 (default) for none. With validation data its loss is logged every `logEvery`
   * steps and the parameters with the lowest validation loss are the ones kept.
   */
  valFraction?: number;
  /**
   * Stop after this many validation evaluations in a row without a new lowest validation
   * loss; `null` (default) never stops early. Needs `valFraction` above 0.
   */
  patience?: number | null;
  /** Write a checkpoint here every `logEvery` steps and after the last; `null` for none. */
  checkpoint?: string | null;
  /**
   * Continue from this checkpoint (made by a run of the same config with fewer steps or
   * epochs): the result equals one run of the full length, bit for bit. `null` for none.
   */
  resume?: string | null;
  /** Seed for the split, the initial weights and the batches. */
  seed: number;
  /** Log the batch loss every this many steps (and at the last). */
  logEvery: number;
  /** Threads computing gradients (the main thread included), or `"auto"`. */
  workers: number | "auto";
  /** Micro-shards per batch, or `"auto"` (the trainer's choice from the work per step). */
  shards: number | "auto";
  /** Z-score the features with the training rows' statistics. */
  standardize: boolean;
  /** Fraction of rows held out (stratified) and evaluated apart, in [0, 1); 0 for none. */
  testFraction: number;
}

/** The published pulsar experiment: every setting but the data file. */
export const EXPERIMENT_DEFAULTS: Readonly<Omit<ExperimentConfig, "data">> = Object.freeze({
  label: null,
  header: true,
  layers: [8, 25, 10, 2],
  lr: 0.01,
  optimizer: "sgd",
  lrSchedule: "constant",
  batch: 100,
  steps: 1000,
  epochs: null,
  valFraction: 0,
  patience: null,
  checkpoint: null,
  resume: null,
  seed: 0,
  logEvery: 50,
  workers: "auto",
  shards: "auto",
  standardize: false,
  testFraction: 0,
});

/**
 * A config value that cannot work, alone or with the data: `key` names the field, `value`
 * is its text, `reason` says what is wrong. A CLI can restate it under its own flag's name.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./experiment.ts";
 * import assert from "node:assert/strict";
 * const e = new ConfigError("lr", "0", "must be a positive number");
 * assert.equal(e.message, "lr 0: must be a positive number");
 * assert.equal(e.key, "lr");
 * ```
 */
export class ConfigError extends RangeError {
  /** The config field at fault. */
  readonly key: keyof ExperimentConfig;
  /** Its value, as text. */
  readonly value: string;
  /** What is wrong with it. */
  readonly reason: string;

  /**
   * Creates the error; the message is `"KEY VALUE: REASON"`.
   *
   * @example
   * ```ts
   * import { ConfigError } from "./experiment.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new ConfigError("steps", "0", "must be a positive integer").name, "ConfigError");
   * ```
   */
  constructor(key: keyof ExperimentConfig, value: string, reason: string) {
    super(`${key} ${value}: ${reason}`);
    this.name = "ConfigError";
    this.key = key;
    this.value = value;
    this.reason = reason;
  }
}

/** The `evaluation` section of the metrics. */
export interface Evaluation {
  /** Every row of the data set (training and held-out rows). */
  all: ClassificationMetrics;
  /** The rows trained on, when there is a held-out split. */
  train?: ClassificationMetrics;
  /** The held-out rows, when `testFraction` is above 0. */
  test?: ClassificationMetrics;
  /** The validation rows, when `valFraction` is above 0. */
  validation?: ClassificationMetrics;
}

/** The data set as the experiment used it. */
export interface DataSummary {
  /** Rows in the file. */
  rows: number;
  /** The feature column names, in the network's input order. */
  features: string[];
  /** The label column's name. */
  label: string;
  /** Rows per class. */
  classCounts: Record<string, number>;
  /** Rows trained on. */
  trainRows: number;
  /** Rows held out. */
  testRows: number;
  /** Training rows held out as validation data (not trained on). */
  validationRows: number;
  /** The training rows' statistics when standardized, else `null`. */
  standardizer: Standardizer | null;
}

/** What metrics.json holds: the record of one experiment. */
export interface TrainMetrics<C extends ExperimentConfig = ExperimentConfig> {
  /** `"ok"`, or `"diverged"` when the loss became NaN or infinite (then no evaluation). */
  status: "ok" | "diverged";
  /** The config as given (a CLI may add its own fields), the RNG's name and tool versions. */
  config: C & { rng: string; versions: Record<string, string> };
  /** The data set as used: sizes, classes, split and standardization statistics. */
  data: DataSummary;
  /** The training run. */
  training: {
    /** The batch loss after the update, every `logEvery` steps. */
    loss: LossEntry[];
    /** Wall time of the training loop alone, in seconds. */
    seconds: number;
    /** Threads used, and why that many. */
    workers: number;
    workersReason: string;
    /** Micro-shards per batch: the gradient's fixed summation order, whatever the threads. */
    shards: number;
    /** The step where the loss became NaN or infinite, if it did. */
    divergedAt?: number;
    /** Steps completed (updates applied), counting those before a resume. */
    steps: number;
    /** With validation data: the step whose parameters were kept, and its validation loss. */
    best?: { step: number; validationLoss: number };
    /** Whether the patience ran out before the last step. */
    stoppedEarly: boolean;
  };
  /** Classification metrics after training; `null` when training diverged. */
  evaluation: Evaluation | null;
}

/** What {@linkcode runExperiment} returns; nothing is written anywhere. */
export interface ExperimentResult<C extends ExperimentConfig = ExperimentConfig> {
  /** The record of the run (metrics.json). */
  metrics: TrainMetrics<C>;
  /** The trained network and its input scaling; `null` when training diverged. */
  model: SavedModel | null;
}

/** Optional inputs to {@linkcode runExperiment}. */
export interface ExperimentOptions {
  /** Data already loaded (e.g. once for many seeds); otherwise `config.data` is read. */
  data?: LabeledData;
  /** Called with each logged loss while training. */
  onLog?: (entry: LossEntry) => void;
  /** Stops training between steps; the experiment then rejects. */
  signal?: AbortSignal;
  /**
   * A module exporting `loss(params, X, Y)`, as a URL or path, passed to `train`. Default:
   * the MLP mean squared error of the published experiment.
   */
  loss?: string | URL;
  /**
   * The most memory, in bytes, one training step may need for its batch (estimated from the
   * layer sizes); a larger batch is a {@linkcode ConfigError} on `batch`. Default: half of
   * the machine's memory when `--allow-sys` lets Deno read it, else 4 GiB.
   */
  stepMemoryLimit?: number;
}

/** The RNG every random draw of a run comes from, as named in the metrics. */
export const RNG_NAME = "xoshiro128** (splitmix32 seeding)";

/**
 * The versions recorded with every run: denograd's and the runtime's.
 *
 * @example
 * ```ts
 * import { experimentVersions } from "./experiment.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(Object.keys(experimentVersions()), ["denograd", "deno", "v8", "typescript"]);
 * ```
 */
export function experimentVersions(): Record<string, string> {
  return {
    denograd: denoJson.version,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
  };
}

/**
 * Runs one experiment in memory: loads and checks the data, splits it (stratified, seeded),
 * standardizes with training statistics, initialises the MLP, trains, and evaluates. Random
 * draws, in order: the test split, the initial weights and the validation split (from the
 * training rows) from `createRng(seed)`, then the batches from the trainer's own seeded
 * stream. Writes nothing but the checkpoint, when one is asked for.
 *
 * @throws {ConfigError} If a config value is out of range or the layers do not fit the data.
 * @throws {DataError} If the data file is missing or invalid, a label is not one of the
 * network's classes (naming the file, line and label), or a column cannot be standardized.
 * @throws {Error} Whatever the trainer throws (e.g. a worker crash), or if it was aborted.
 *
 * @example A short run on a tiny data set
 * ```ts
 * import { EXPERIMENT_DEFAULTS, parseLabeledCsv, runExperiment } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const data = parseLabeledCsv("a,b,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
 * const { metrics, model } = await runExperiment({
 *   ...EXPERIMENT_DEFAULTS,
 *   data: "xor.csv",
 *   layers: [2, 4, 2],
 *   steps: 20,
 *   logEvery: 10,
 *   batch: 4,
 *   workers: 1,
 * }, { data });
 * assert.equal(metrics.status, "ok");
 * assert.equal(metrics.training.loss.length, 2);
 * assert.deepEqual(model?.sizes, [2, 4, 2]);
 * ```
 */
export async function runExperiment<C extends ExperimentConfig>(
  config: C,
  options: ExperimentOptions = {},
): Promise<ExperimentResult<C>> {
  checkConfig(config);
  checkBatchFits(config, options.stepMemoryLimit);
  const data = options.data ?? await loadLabeledCsv(config.data, {
    ...(config.label === null ? {} : { label: config.label }),
    header: config.header ?? true,
    classes: config.layers.at(-1)!, // a stray label is named by the loader, with its line
  });
  checkDataFitsNetwork(config, data);

  const rng = createRng(config.seed);
  const split = splitRows(config, data.labels, rng);
  const params = initMLP(config.layers, rng);
  // Drawn after the weights, so the split and the weights do not depend on valFraction.
  const fit = validationRows(config, data.labels, split.train, rng);
  const prepared = prepareFeatures(config, data, fit.train, fit.validation);
  const result = await resumeErrorsAsConfig(config, () =>
    train({
      params,
      ...trainOptionsOf(config, data, prepared, fit),
      onLog: options.onLog,
      signal: options.signal,
      loss: options.loss,
    }));
  if (result.status === "aborted") throw new Error("Training was aborted");

  const diverged = result.status === "diverged";
  const { standardizer } = prepared;
  const model = diverged ? null : {
    sizes: [...config.layers],
    params: result.params,
    ...(standardizer ? { standardizer } : {}),
  };
  return {
    metrics: {
      status: diverged ? "diverged" : "ok",
      config: { ...config, rng: RNG_NAME, versions: experimentVersions() },
      data: summarizeData(data, split, fit.validation.length, standardizer),
      training: trainingRecord(result),
      evaluation: diverged
        ? null
        : evaluate(result.params, prepared.Xall, data, { ...split, ...fit }),
    },
    model,
  };
}

/** The trainer's data and options for `config`, on the rows `fit` of `data`. */
function trainOptionsOf(
  config: ExperimentConfig,
  data: LabeledData,
  prepared: { Xtrain: Matrix; Xval: Matrix | null },
  fit: { train: number[]; validation: number[] },
): Omit<TrainOptions, "params"> {
  const labelsOf = (rows: number[]) => oneHot(rows.map((i) => data.labels[i]), classCount(data));
  const trainAll = fit.train.length === data.X.rows;
  const every = config.logEvery;
  return {
    X: prepared.Xtrain,
    Y: trainAll ? oneHot(data.labels, classCount(data)) : labelsOf(fit.train),
    ...optimizerOption(config, fit.train.length),
    batch: config.batch,
    ...(config.epochs == null
      ? { steps: config.steps }
      : { sampling: "epochs" as const, epochs: config.epochs }),
    seed: config.seed,
    workers: config.workers,
    shards: config.shards === "auto" ? undefined : config.shards,
    logEvery: every,
    ...(prepared.Xval
      ? {
        validation: {
          X: prepared.Xval,
          Y: labelsOf(fit.validation),
          every,
          patience: config.patience ?? undefined,
        },
      }
      : {}),
    ...(config.checkpoint ? { checkpoint: { path: config.checkpoint, every } } : {}),
    ...(config.resume ? { resume: config.resume } : {}),
  };
}

/** Runs `fn`, restating the trainer's complaints about the `resume` file as the config's. */
async function resumeErrorsAsConfig<T>(config: ExperimentConfig, fn: () => Promise<T>) {
  try {
    return await fn();
  } catch (e) {
    const prefix = `train: resume ${config.resume}`;
    if (config.resume && e instanceof Error && e.message.startsWith(prefix)) {
      const reason = e.message.slice(prefix.length).replace(/^:?\s*/, "");
      throw new ConfigError("resume", config.resume, reason);
    }
    throw e;
  }
}

/** The number of classes in `data`. */
function classCount(data: LabeledData): number {
  return data.classes.length;
}

const isPositiveInteger = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;

/** Checks each config value alone; the data checks come after loading. */
function checkConfig(config: ExperimentConfig): void {
  const check = (key: keyof ExperimentConfig, ok: boolean, what: string) => {
    if (!ok) throw new ConfigError(key, String(config[key]), `must be ${what}`);
  };
  check("data", typeof config.data === "string" && config.data.trim() !== "", "a path");
  check(
    "layers",
    Array.isArray(config.layers) && config.layers.length >= 2 &&
      config.layers.every(isPositiveInteger),
    "two or more positive integers",
  );
  check("lr", Number.isFinite(config.lr) && config.lr > 0, "a positive number");
  for (const key of ["batch", "steps", "logEvery"] as const) {
    check(key, isPositiveInteger(config[key]), "a positive integer");
  }
  check("seed", Number.isSafeInteger(config.seed), "an integer");
  check(
    "workers",
    config.workers === "auto" || isPositiveInteger(config.workers),
    '"auto" or a positive integer',
  );
  check(
    "shards",
    config.shards === "auto" || (isPositiveInteger(config.shards) && config.shards <= config.batch),
    `"auto" or an integer from 1 to the batch (${config.batch})`,
  );
  check("testFraction", config.testFraction >= 0 && config.testFraction < 1, "in [0, 1)");
  const { optimizer = "sgd", lrSchedule = "constant", epochs = null } = config;
  const { valFraction = 0, patience = null, header = true } = config;
  check(
    "label",
    config.label === null || typeof config.label === "string" ||
      isPositiveInteger(config.label),
    "a column name, a 1-based position or null",
  );
  check("header", typeof header === "boolean", "true or false");
  check("optimizer", OPTIMIZERS.includes(optimizer), `one of ${OPTIMIZERS.join(", ")}`);
  check("lrSchedule", LR_SCHEDULES.includes(lrSchedule), `one of ${LR_SCHEDULES.join(", ")}`);
  check("epochs", epochs === null || isPositiveInteger(epochs), "a positive integer or null");
  check("valFraction", valFraction >= 0 && valFraction < 1, "in [0, 1)");
  check("patience", patience === null || isPositiveInteger(patience), "a positive integer or null");
  if (patience !== null && !(valFraction > 0)) {
    throw new ConfigError(
      "patience",
      String(patience),
      "needs validation data to watch: give valFraction above 0",
    );
  }
  for (const key of ["checkpoint", "resume"] as const) {
    const v = config[key] ?? null;
    check(key, v === null || (typeof v === "string" && v.trim() !== ""), "a file path or null");
  }
}

/**
 * The optimizer of `config` for a run on `rows` training rows (the schedules need the run's
 * length: `steps`, or `epochs × floor(rows / batch)`).
 */
function optimizerOption(config: ExperimentConfig, rows: number): Pick<TrainOptions, "optimizer"> {
  const total = Math.max(
    1,
    config.epochs == null ? config.steps : config.epochs * Math.floor(rows / config.batch),
  );
  const lr = learningRate(config.lrSchedule ?? "constant", config.lr, total);
  const optimizers: Record<OptimizerName, () => Optimizer> = {
    sgd: () => sgd({ lr }),
    momentum: () => sgd({ lr, momentum: 0.9 }),
    rmsprop: () => rmsprop({ lr }),
    adam: () => adam({ lr }),
    adamw: () => adamw({ lr }),
  };
  return { optimizer: optimizers[config.optimizer ?? "sgd"]() };
}

/** The schedule named `name` peaking at `lr` over a run of `total` steps (see `lrSchedule`). */
function learningRate(name: LrScheduleName, lr: number, total: number): LearningRate {
  switch (name) {
    case "constant":
      return lr;
    case "cosine":
      return cosineDecay({ init: lr, decaySteps: total });
    case "exponential":
      return exponentialDecay({ init: lr, decayRate: 0.1, transitionSteps: total });
    case "warmup-cosine": {
      const warmup = Math.max(1, Math.round(0.05 * total));
      return joinSchedules([
        linearWarmup({ init: 0, peak: lr, warmupSteps: warmup }),
        cosineDecay({ init: lr, decaySteps: Math.max(1, total - warmup) }),
      ], [warmup]);
    }
  }
}

/** The training rows split into those fitted and the validation rows (stratified, seeded). */
function validationRows(
  config: ExperimentConfig,
  labels: Int32Array,
  trainRows: number[],
  rng: Rng,
): { train: number[]; validation: number[] } {
  const fraction = config.valFraction ?? 0;
  if (!(fraction > 0)) return { train: trainRows, validation: [] };
  let inner: Split;
  try {
    inner = stratifiedSplit(trainRows.map((i) => labels[i]), fraction, rng);
  } catch (e) {
    const why = (e as Error).message.replace(/^stratifiedSplit: testFraction/, "valFraction");
    throw new ConfigError("valFraction", String(fraction), why);
  }
  return {
    train: inner.train.map((k) => trainRows[k]),
    validation: inner.test.map((k) => trainRows[k]),
  };
}

/**
 * Bytes one step needs per batch row: the gathered rows, then each layer's forward values
 * and their cotangents. Measured as peak RSS over a step on Deno 2.9 (batches of 1e5-1e6,
 * layers 8-2, 8-25-10-2 and 8-256-256-2 within 7%): about 8 bytes x (7 per unit of each
 * layer after the input + 4 per input + 48), 2.7 KB a row for 8-25-10-2.
 */
function stepBytesPerRow(layers: readonly number[]): number {
  const units = layers.slice(1).reduce((a, b) => a + b, 0);
  return 8 * (7 * units + 4 * layers[0] + 48);
}

/** Without --allow-sys the machine's memory is unknown: assume a small one (8 GB). */
const FIXED_STEP_MEMORY_LIMIT = 4 * 2 ** 30;

/** The default limit on a step's memory and how it was chosen. */
function defaultStepMemoryLimit(): { bytes: number; why: string } {
  const sys = Deno.permissions.querySync?.({ name: "sys", kind: "systemMemoryInfo" });
  if (sys?.state === "granted") {
    const total = Deno.systemMemoryInfo().total;
    return { bytes: total / 2, why: `half of this machine's ${gigabytes(total)}` };
  }
  return {
    bytes: FIXED_STEP_MEMORY_LIMIT,
    why: "4 GiB; with --allow-sys=systemMemoryInfo the limit is half of the machine's memory",
  };
}

function gigabytes(bytes: number): string {
  const gb = bytes / 1e9;
  return `${gb >= 1000 ? Math.round(gb).toLocaleString("en") : gb.toPrecision(3)} GB`;
}

/**
 * Rejects a batch whose step cannot fit in memory, before any data is read: naming it beats
 * an unnamed "Array buffer allocation failed" or a machine swapping on step 1. A batch
 * larger than the data is fine (rows are drawn with replacement) as long as it fits.
 */
function checkBatchFits(config: ExperimentConfig, limit?: number): void {
  const perRow = stepBytesPerRow(config.layers);
  const bound = limit === undefined
    ? defaultStepMemoryLimit()
    : { bytes: limit, why: "the limit given" };
  const need = perRow * config.batch;
  if (need <= bound.bytes) return;
  const most = Math.floor(bound.bytes / perRow);
  throw new ConfigError(
    "batch",
    String(config.batch),
    `a step would need about ${gigabytes(need)} of memory (${perRow.toLocaleString("en")} ` +
      `bytes a row for layers ${config.layers.join(",")}), over the limit of ` +
      `${gigabytes(bound.bytes)} (${bound.why}). Use a batch of at most ` +
      `${most.toLocaleString("en")}; it may exceed the rows in the data, as rows are drawn ` +
      "with replacement.",
  );
}

/**
 * Checks the labels are the classes 0..K-1 and the network has one input per feature and
 * one output per class. A label beyond the network's outputs is caught by the loader (its
 * `classes` option), which names the line; data given in memory is checked here by row.
 */
function checkDataFitsNetwork(config: ExperimentConfig, data: LabeledData): void {
  const classes = classCount(data);
  const [inputs, outputs] = [config.layers[0], config.layers.at(-1)!];
  const layers = config.layers.join(",");
  if (data.classes.some((c) => c >= outputs)) {
    const row = data.labels.findIndex((label) => label >= outputs);
    const label = data.labels[row];
    const count = data.labels.filter((l) => l === label).length;
    throw new DataError(
      `${config.data}, data row ${row + 1}: unexpected label ${label} ` +
        `(${count} row${count === 1 ? "" : "s"} in all); the network's ${outputs} outputs are ` +
        `for the labels 0 to ${outputs - 1}. Fix the row, or give the last layer more outputs.`,
    );
  }
  if (data.classes.some((c, i) => c !== i)) {
    throw new DataError(
      `${config.data}: the labels must be the classes 0 to ${classes - 1}, ` +
        `found ${data.classes.join(", ")}`,
    );
  }
  if (inputs !== data.X.cols) {
    throw new ConfigError(
      "layers",
      layers,
      `the first layer must equal the number of features in ${config.data} ` +
        `(${data.X.cols}: ${data.featureNames.join(", ")})`,
    );
  }
  if (outputs !== classes) {
    throw new ConfigError(
      "layers",
      layers,
      `the last layer must equal the number of classes in ${config.data} (${classes})`,
    );
  }
}

/** The stratified split, with the splitter's complaint restated as the config's. */
function splitRows(config: ExperimentConfig, labels: Int32Array, rng: Rng): Split {
  try {
    return stratifiedSplit(labels, config.testFraction, rng);
  } catch (e) {
    const why = (e as Error).message.replace(/^stratifiedSplit: /, "");
    throw new ConfigError("testFraction", String(config.testFraction), why);
  }
}

/**
 * The features of the rows trained on, of the validation rows and of every row, standardized
 * with the statistics of the rows trained on if asked.
 */
function prepareFeatures(
  config: ExperimentConfig,
  data: LabeledData,
  trainRows: number[],
  validation: number[],
): { Xtrain: Matrix; Xval: Matrix | null; Xall: Matrix; standardizer: Standardizer | null } {
  const all = trainRows.length === data.X.rows;
  const raw = all ? data.X : takeRows(data.X, trainRows);
  const val = (X: Matrix) => (validation.length > 0 ? takeRows(X, validation) : null);
  if (!config.standardize) {
    return { Xtrain: raw, Xval: val(data.X), Xall: data.X, standardizer: null };
  }
  let standardizer: Standardizer;
  try {
    standardizer = fitStandardizer(raw, { columnNames: data.featureNames });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new DataError(
      `${config.data}: cannot standardize ${e.message.replace(/^fitStandardizer: /, "")}`,
    );
  }
  const Xall = standardize(data.X, standardizer);
  return { Xtrain: standardize(raw, standardizer), Xval: val(Xall), Xall, standardizer };
}

/** One forward pass over every row; the train and test scores pick their rows from it. */
function evaluate(
  params: Matrix[],
  Xall: Matrix,
  data: LabeledData,
  split: Split & { validation: number[] },
): Evaluation {
  const { labels } = data;
  const classes = classCount(data);
  const predicted = predictClasses(params, Xall);
  const score = (rows: number[]) =>
    classificationMetrics(rows.map((i) => predicted[i]), rows.map((i) => labels[i]), classes);
  const evaluation: Evaluation = { all: classificationMetrics(predicted, labels, classes) };
  if (split.test.length > 0 || split.validation.length > 0) evaluation.train = score(split.train);
  if (split.test.length > 0) evaluation.test = score(split.test);
  if (split.validation.length > 0) evaluation.validation = score(split.validation);
  return evaluation;
}

function summarizeData(
  data: LabeledData,
  split: Split,
  validationRows: number,
  standardizer: Standardizer | null,
): DataSummary {
  const classCounts: Record<string, number> = {};
  for (const c of data.classes) classCounts[c] = data.labels.filter((l) => l === c).length;
  return {
    rows: data.X.rows,
    features: data.featureNames,
    label: data.labelName,
    classCounts,
    trainRows: split.train.length - validationRows,
    testRows: split.test.length,
    validationRows,
    standardizer,
  };
}

function trainingRecord(result: TrainResult): TrainMetrics["training"] {
  return {
    loss: result.loss,
    seconds: result.seconds,
    workers: result.workers,
    workersReason: result.workersReason,
    shards: result.shards,
    ...(result.status === "diverged" ? { divergedAt: result.divergedAt } : {}),
    steps: result.stepsDone,
    ...(result.best ? { best: result.best } : {}),
    stoppedEarly: result.stoppedEarly,
  };
}
