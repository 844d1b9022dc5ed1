// Cross-validation as a function: repeated stratified k-fold over several models, folds on workers.

import { DataError, type LabeledData, loadLabeledCsv } from "../data/csv.ts";
import { PULSAR_COLUMNS } from "../data/htru2.ts";
import { stratifiedFolds } from "../data/folds.ts";
import { type Curve, precisionRecallCurve, rocCurve } from "../nn/metrics.ts";
import { createRng } from "../random.ts";
import { experimentVersions, RNG_NAME } from "../experiment.ts";
import {
  type FoldMetrics,
  type FoldOutcome,
  type FoldTask,
  type FromCvWorker,
  MODEL_NAMES,
  MODEL_SETTINGS,
  type ModelName,
  runFoldTask,
  type ToCvWorker,
  trainPractitioner,
} from "./_cv_models.ts";
import type { ScoringModel } from "./predict.ts";

export { MODEL_NAMES, MODEL_SETTINGS, type ModelName } from "./_cv_models.ts";
export type { FoldMetrics } from "./_cv_models.ts";

/** Everything a cross-validation run depends on; recorded in cv.json. */
export interface CvConfig {
  /** Path of the labelled CSV (also its name in messages when the data is given). */
  data: string;
  /**
   * Whether the file's first line holds column names, or the names to give a file without
   * them (as `loadLabeledCsv`'s `header` option; the UCI HTRU_2.csv has none).
   */
  header: boolean | readonly string[];
  /** The label column: its name, its 1-based position, or `null` for the last column. */
  label: string | number | null;
  /** Folds per repeat (k), at least 2. */
  folds: number;
  /** How many times the k folds are redrawn, at least 1. */
  repeats: number;
  /** Seed of the folds and of every model's random draws. */
  seed: number;
  /** Threads running folds: 1 runs them one by one on the calling thread. */
  workers: number | "auto";
  /** The models to compare, from {@linkcode MODEL_NAMES}. */
  models: ModelName[];
}

/** The default run: the full HTRU2, 5 folds repeated twice, every model. */
export const CV_DEFAULTS: Readonly<CvConfig> = Object.freeze({
  data: "data/HTRU_2.csv",
  header: PULSAR_COLUMNS,
  label: null,
  folds: 5,
  repeats: 2,
  seed: 0,
  workers: "auto",
  models: [...MODEL_NAMES],
});

/** The metrics summarised over folds, as {@linkcode CvSummary} keys. */
export const SUMMARY_METRICS = [
  "accuracy",
  "recall",
  "precision",
  "f1",
  "fpr",
  "gmean",
  "specificity",
  "rocAuc",
  "prAuc",
] as const;

/** One of {@linkcode SUMMARY_METRICS}. */
export type SummaryMetric = typeof SUMMARY_METRICS[number];

/** A metric over the folds: the mean and the sample standard deviation (divided by n − 1). */
export interface MeanSd {
  /** The mean over the folds. */
  mean: number;
  /** The sample standard deviation over the folds (n − 1; 0 for one fold). */
  sd: number;
}

/** Every {@linkcode SUMMARY_METRICS} entry as mean ± sd. */
export type CvSummary = Record<SummaryMetric, MeanSd>;

/** One model on one test fold, as cv.json records it. */
export interface CvFold extends FoldMetrics {
  /** The repeat, 0-based. */
  repeat: number;
  /** The fold within the repeat, 0-based. */
  fold: number;
  /** Rows in the test fold. */
  testRows: number;
  /** The threshold on the score for a pulsar, or `null` (argmax, or a constant prediction). */
  threshold: number | null;
  /** How training went, model by model (steps, epochs, iterations...). */
  training: Record<string, number | boolean | string>;
}

/** One model's results. */
export interface CvModelResult {
  /** How it is trained and how it predicts. */
  description: string;
  /** Its settings. */
  settings: Record<string, unknown>;
  /** Per fold, repeat by repeat. */
  folds: CvFold[];
  /** Mean ± sample sd over all folds. */
  summary: CvSummary;
}

/** The ROC and precision–recall curves of each of a model's test folds. */
export interface CvCurves {
  /** One ROC curve (false-positive rate, true-positive rate) per fold. */
  roc: Curve[];
  /** One precision–recall curve (recall, precision) per fold. */
  pr: Curve[];
}

/** What {@linkcode crossValidate} returns; nothing is written anywhere. */
export interface CvResult {
  /** The config as given, with the RNG's name. */
  config: CvConfig & { rng: string };
  /** denograd's and the runtime's versions. */
  versions: Record<string, string>;
  /** The data as used. */
  data: { rows: number; features: string[]; label: string; pulsars: number };
  /** Per model, by name, in {@linkcode MODEL_NAMES} order. */
  models: Partial<Record<ModelName, CvModelResult>>;
  /** Per model, the curves of each fold (in the order of `folds`), for plotting. */
  curves: Partial<Record<ModelName, CvCurves>>;
  /** Wall time and the threads that ran folds (not part of the reproducible results). */
  timing: { seconds: number; workers: number };
}

/** Progress after each finished task. */
export interface CvProgress {
  /** The model whose fold just finished. */
  model: ModelName;
  /** That model's folds done. */
  done: number;
  /** That model's folds in all. */
  total: number;
  /** Model-folds done, all models together. */
  allDone: number;
  /** Model-folds in all. */
  allTotal: number;
}

/** Optional inputs to {@linkcode crossValidate}. */
export interface CvOptions {
  /** Data already loaded; otherwise `config.data` is read. Labels must be 0 and 1. */
  data?: LabeledData;
  /** Called after each model-fold finishes. */
  onProgress?: (progress: CvProgress) => void;
}

/**
 * Repeated stratified k-fold cross-validation of the pulsar models on a two-class data set.
 * For repeat r (0-based), the folds are {@linkcode stratifiedFolds} drawn from one RNG seeded
 * with `seed`, repeat after repeat; each model trains on the other k − 1 folds (any scaling
 * is fitted on them alone) with its own seed `seed·1000 + r·100 + fold + 1`, and is scored on
 * the held-out fold. Each model-fold is a task; with more than one worker the tasks run on
 * Deno workers sharing the data (a `SharedArrayBuffer`), and since a task depends only on its
 * inputs the results are bit-identical to running them one by one.
 *
 * @throws {RangeError} If a config value is out of range.
 * @throws {DataError} If the data cannot be read, or its labels are not exactly 0 and 1.
 *
 * @example Two quick models on a small generated data set
 * ```ts
 * import { crossValidate, Matrix } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const rows = 60;
 * const X = Matrix.zeros(rows, 2), labels = new Int32Array(rows);
 * for (let i = 0; i < rows; i++) {
 *   labels[i] = i % 3 === 0 ? 1 : 0;
 *   X.data[2 * i] = labels[i] + Math.sin(i); // separable up to the noise
 *   X.data[2 * i + 1] = Math.cos(i);
 * }
 * const data = { X, labels, featureNames: ["a", "b"], labelName: "y", classes: [0, 1] };
 * const result = await crossValidate(
 *   { data: "toy.csv", header: true, label: null, folds: 3, repeats: 1, seed: 0, workers: 1,
 *     models: ["logistic", "majority"] },
 *   { data },
 * );
 * assert.equal(result.models.logistic!.folds.length, 3);
 * assert.equal(result.models.majority!.summary.recall.mean, 0);
 * ```
 */
export async function crossValidate(config: CvConfig, options: CvOptions = {}): Promise<CvResult> {
  checkCvConfig(config);
  const data = options.data ?? await loadLabeledCsv(config.data, {
    header: config.header,
    ...(config.label === null ? {} : { label: config.label }),
  });
  if (data.classes.length !== 2 || data.classes[0] !== 0 || data.classes[1] !== 1) {
    throw new DataError(
      `${config.data}: cross-validation needs the labels 0 and 1, found ${data.classes.join(", ")}`,
    );
  }
  const started = performance.now();
  const tasks = makeTasks(config, data.labels);
  const threads = Math.min(tasks.length, resolveWorkers(config.workers));
  const outcomes = threads === 1
    ? await runHere(tasks, data, progressCounter(tasks, options.onProgress))
    : await runOnWorkers(tasks, data, threads, progressCounter(tasks, options.onProgress));
  const seconds = (performance.now() - started) / 1000;

  const models: CvResult["models"] = {}, curves: CvResult["curves"] = {};
  for (const model of MODEL_NAMES.filter((m) => config.models.includes(m))) {
    const mine = outcomes.filter((o) => o.model === model);
    const folds = mine.map((o) => foldRecord(o, tasks[o.id]));
    const { description, ...settings } = MODEL_SETTINGS[model];
    models[model] = {
      description,
      settings,
      folds,
      summary: summarize(folds),
    };
    curves[model] = {
      roc: mine.map((o) => rocCurve(o.scores, testLabels(data.labels, tasks[o.id]))),
      pr: mine.map((o) => precisionRecallCurve(o.scores, testLabels(data.labels, tasks[o.id]))),
    };
  }
  const pulsars = data.labels.reduce((a, b) => a + b, 0);
  return {
    config: {
      ...config,
      header: Array.isArray(config.header) ? [...config.header] : config.header,
      models: [...config.models],
      rng: RNG_NAME,
    },
    versions: experimentVersions(),
    data: { rows: data.X.rows, features: data.featureNames, label: data.labelName, pulsars },
    models,
    curves,
    timing: { seconds, workers: threads },
  };
}

/**
 * The practitioner network (see {@linkcode MODEL_SETTINGS}) trained on every row of `data`,
 * exactly as on a training fold (its validation split, early stopping and F1 threshold come
 * from these rows), ready for `serializeScoringModel` and `deno task predict`: its scores
 * are probabilities of class 1.
 *
 * @example
 * ```ts
 * import { Matrix, trainPractitionerModel } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const X = Matrix.zeros(90, 8), labels = new Int32Array(90);
 * for (let i = 0; i < 90; i++) {
 *   labels[i] = i % 3 === 0 ? 1 : 0;
 *   for (let j = 0; j < 8; j++) X.data[i * 8 + j] = Math.sin(i * (j + 1)) + labels[i];
 * }
 * const data = { X, labels, featureNames: [], labelName: "y", classes: [0, 1] };
 * const model = trainPractitionerModel(data, 0);
 * assert.equal(model.output, "logits");
 * assert.deepEqual(model.sizes, [8, 25, 10, 2]);
 * ```
 */
export function trainPractitionerModel(data: LabeledData, seed: number): ScoringModel {
  const { sizes, params, standardizer, threshold, logColumns } = trainPractitioner(
    data.X,
    data.labels,
    seed,
  );
  return {
    sizes,
    params,
    standardizer,
    output: "logits",
    threshold,
    ...(logColumns.length ? { logColumns } : {}),
  };
}

/**
 * Mean and sample standard deviation (n − 1) of each summary metric over `folds`; sd is 0
 * for a single fold.
 *
 * @example
 * ```ts
 * import { summarizeFolds } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const fold = (f1: number) => ({ accuracy: 1, recall: 1, precision: 1, f1, fpr: 0, gmean: 1,
 *   specificity: 1, rocAuc: 1, prAuc: 1 });
 * const s = summarizeFolds([fold(0.8), fold(0.9), fold(1)]);
 * assert.ok(Math.abs(s.f1.mean - 0.9) < 1e-12 && Math.abs(s.f1.sd - 0.1) < 1e-12);
 * assert.deepEqual(s.accuracy, { mean: 1, sd: 0 });
 * ```
 */
export function summarizeFolds(folds: readonly Record<SummaryMetric, number>[]): CvSummary {
  return summarize(folds);
}

function summarize(folds: readonly Record<SummaryMetric, number>[]): CvSummary {
  const summary = {} as CvSummary;
  const n = folds.length;
  for (const key of SUMMARY_METRICS) {
    let total = 0;
    for (const f of folds) total += f[key];
    const mean = total / n;
    let squares = 0;
    for (const f of folds) squares += (f[key] - mean) ** 2;
    summary[key] = { mean, sd: n > 1 ? Math.sqrt(squares / (n - 1)) : 0 };
  }
  return summary;
}

function foldRecord(o: FoldOutcome, task: FoldTask): CvFold {
  return {
    repeat: o.repeat,
    fold: o.fold,
    testRows: task.test.length,
    threshold: o.threshold,
    ...o.metrics,
    training: o.training,
  };
}

function testLabels(labels: Int32Array, task: FoldTask): Int32Array {
  return Int32Array.from(task.test, (i) => labels[i]);
}

const isPositiveInteger = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;

function checkCvConfig(config: CvConfig): void {
  const fail = (key: keyof CvConfig, what: string) => {
    throw new RangeError(
      `crossValidate: ${key} must be ${what}, got ${JSON.stringify(config[key])}`,
    );
  };
  if (!(Number.isSafeInteger(config.folds) && config.folds >= 2)) fail("folds", "an integer ≥ 2");
  if (!isPositiveInteger(config.repeats)) fail("repeats", "a positive integer");
  if (!Number.isSafeInteger(config.seed)) fail("seed", "an integer");
  if (config.workers !== "auto" && !isPositiveInteger(config.workers)) {
    fail("workers", '"auto" or a positive integer');
  }
  if (
    !Array.isArray(config.models) || config.models.length === 0 ||
    !config.models.every((m) => (MODEL_NAMES as readonly string[]).includes(m))
  ) {
    fail("models", `a non-empty list from ${MODEL_NAMES.join(", ")}`);
  }
}

function resolveWorkers(workers: number | "auto"): number {
  return workers === "auto" ? Math.max(1, navigator.hardwareConcurrency ?? 1) : workers;
}

/**
 * Every model-fold of the run. The longest tasks come first (the practitioner network, then
 * the notebook's, ...) so the workers finish together; results are keyed by `id`, in
 * model, repeat, fold order.
 */
function makeTasks(config: CvConfig, labels: Int32Array): FoldTask[] {
  const rng = createRng(config.seed);
  const splits = Array.from(
    { length: config.repeats },
    () => stratifiedFolds(labels, config.folds, rng),
  );
  const tasks: FoldTask[] = [];
  for (const model of MODEL_NAMES.filter((m) => config.models.includes(m))) {
    splits.forEach((folds, repeat) =>
      folds.forEach(({ train, test }, fold) =>
        tasks.push({
          id: tasks.length,
          model,
          repeat,
          fold,
          seed: config.seed * 1000 + repeat * 100 + fold + 1,
          train: Int32Array.from(train),
          test: Int32Array.from(test),
        })
      )
    );
  }
  return tasks;
}

/** Longest first: the order workers take tasks in. */
const COST: Record<ModelName, number> = { practitioner: 0, notebook: 1, logistic: 2, majority: 3 };

function byCost(tasks: FoldTask[]): FoldTask[] {
  return [...tasks].sort((a, b) => COST[a.model] - COST[b.model] || a.id - b.id);
}

function progressCounter(
  tasks: FoldTask[],
  onProgress?: (p: CvProgress) => void,
): (model: ModelName) => void {
  const done = new Map<ModelName, number>(), total = new Map<ModelName, number>();
  for (const t of tasks) total.set(t.model, (total.get(t.model) ?? 0) + 1);
  let allDone = 0;
  return (model) => {
    done.set(model, (done.get(model) ?? 0) + 1);
    allDone++;
    onProgress?.({
      model,
      done: done.get(model)!,
      total: total.get(model)!,
      allDone,
      allTotal: tasks.length,
    });
  };
}

/** Runs the tasks one by one on this thread, yielding between them so progress can print. */
async function runHere(
  tasks: FoldTask[],
  data: LabeledData,
  finished: (model: ModelName) => void,
): Promise<FoldOutcome[]> {
  const outcomes: FoldOutcome[] = new Array(tasks.length);
  for (const task of byCost(tasks)) {
    outcomes[task.id] = runFoldTask(task, data.X, data.labels);
    finished(task.model);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return outcomes;
}

/** Runs the tasks on `threads` workers, each taking the next task as it comes free. */
async function runOnWorkers(
  tasks: FoldTask[],
  data: LabeledData,
  threads: number,
  finished: (model: ModelName) => void,
): Promise<FoldOutcome[]> {
  const X = data.X.isShared ? data.X : data.X.toShared();
  const labels = new SharedArrayBuffer(data.labels.length * 4);
  new Int32Array(labels).set(data.labels);
  const queue = byCost(tasks);
  const outcomes: FoldOutcome[] = new Array(tasks.length);
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let pending = tasks.length;
      const next = (worker: Worker) => {
        const task = queue.shift();
        if (task) worker.postMessage({ type: "task", task } satisfies ToCvWorker);
      };
      for (let w = 0; w < threads; w++) {
        const worker = new Worker(new URL("./_cv_worker.ts", import.meta.url), {
          type: "module",
          name: `cv-worker-${w}`,
        });
        workers.push(worker);
        worker.onmessage = (event: MessageEvent<FromCvWorker>) => {
          const message = event.data;
          if (message.type === "error") {
            const task = tasks[message.id];
            reject(
              new Error(
                `Cross-validation of ${task.model} on repeat ${task.repeat + 1}, fold ` +
                  `${task.fold + 1} failed in a worker: ${message.message}`,
              ),
            );
            return;
          }
          outcomes[message.outcome.id] = message.outcome;
          finished(message.outcome.model);
          if (--pending === 0) resolve();
          else next(worker);
        };
        worker.onerror = (event: ErrorEvent) => {
          event.preventDefault();
          reject(new Error(`A cross-validation worker crashed: ${event.message}`));
        };
        worker.postMessage({ type: "data", X: X.share(), labels } satisfies ToCvWorker);
        next(worker);
      }
    });
  } finally {
    for (const worker of workers) worker.terminate();
  }
  return outcomes;
}
