// CLI: train the tanh MLP on a labelled CSV; write metrics.json, model.json and loss.svg.

import { basename, join } from "node:path";
import { writeFileAtomic } from "../lib/_fs.ts";
import { DataError, DECIMAL, type LabeledData, loadLabeledCsv, oneHot } from "../lib/data/csv.ts";
import { HTRU2_URL } from "../lib/data/htru2.ts";
import {
  fitStandardizer,
  standardize,
  type Standardizer,
  stratifiedSplit,
  takeRows,
} from "../lib/data/preprocess.ts";
import {
  type ClassificationMetrics,
  classificationMetrics,
  predictClasses,
} from "../lib/nn/metrics.ts";
import { initMLP } from "../lib/nn/mlp.ts";
import { serializeModel } from "../lib/nn/model_io.ts";
import { createRng } from "../lib/nn/rng.ts";
import { train } from "../lib/train/train.ts";
import { renderLossSvg } from "./_loss_svg.ts";
import { DEFAULT_DATA, ensureDefaultData } from "./data.ts";
import { parseFlags, parseInteger, parseIntegerFlag, UsageError } from "./_flags.ts";
import denoJson from "../deno.json" with { type: "json" };

// Both were first defined here; callers such as the tests import them from train.ts.
export { DEFAULT_DATA, UsageError };

const USAGE = `Usage: deno task train [options]
   or: deno run --allow-read --allow-write --allow-net=archive.ics.uci.edu scripts/train.ts [options]

Trains a tanh MLP with minibatch SGD (by default the 8-25-10-2 pulsar experiment) and writes
metrics.json, model.json and loss.svg to the output directory.

Options:
  --data PATH           labelled numeric CSV with a header (default ${DEFAULT_DATA};
                        downloaded when that default file is missing)
  --data-url URL        where that download comes from: an http:, https: or file: URL of
                        the HTRU2 zip, for mirrors and offline copies; a host other than
                        UCI needs \`deno run --allow-net=HOST\` (default
                        ${HTRU2_URL})
  --label NAME          label column (default: the last column)
  --layers LIST         layer sizes, inputs first (default 8,25,10,2); the first must equal
                        the number of features, the last the number of classes
  --lr X                learning rate (default 0.01)
  --batch N             rows per step, drawn with replacement (default 100)
  --steps N             SGD steps (default 1000)
  --seed N              seed of the xoshiro128** generator: same seed, same bits (default 0)
  --log-every N         log the batch loss every N steps and at the last (default 50)
  --workers auto|N      threads for the gradient (default auto: picked from the work per step);
                        at most one per micro-shard
  --shards auto|N       micro-shards per batch, summed in a fixed order so results do not depend
                        on --workers (default auto: 1 under 2M multiply-adds a step, else 6)
  --standardize         z-score the features with the training rows' mean and std
  --test-fraction F     hold out a stratified fraction F in [0, 1) and evaluate it
                        separately (default 0: train and evaluate on all rows)
  --out DIR             output directory (default results/)
  -h, --help            show this help

Under \`deno task\`, relative paths are taken from the repository root (where deno.json is).
Negative numbers need the = form: --seed=-1.
Exit status: 0 trained, 1 training or I/O error, 2 bad flags or data, 3 training diverged.`;

/** Everything a run depends on, parsed from the flags; printed and saved in metrics.json. */
export interface TrainConfig {
  /** Path of the CSV. */
  data: string;
  /** Where the HTRU2 zip is downloaded from when `data` is the default file and missing. */
  dataUrl: string;
  /** Label column name, or `null` for the last column. */
  label: string | null;
  /** Layer sizes, inputs first. */
  layers: number[];
  /** Learning rate. */
  lr: number;
  /** Batch size. */
  batch: number;
  /** Number of SGD steps. */
  steps: number;
  /** Seed for the split, the initial weights and the batches. */
  seed: number;
  /** Logging interval in steps. */
  logEvery: number;
  /** Worker threads, or `"auto"`. */
  workers: number | "auto";
  /** Micro-shards per batch, or `"auto"` (the trainer's choice from the work per step). */
  shards: number | "auto";
  /** Z-score the features with training statistics. */
  standardize: boolean;
  /** Fraction of rows held out (stratified); 0 for none. */
  testFraction: number;
  /** Output directory. */
  out: string;
}

/**
 * Parses and checks the command-line flags into a {@linkcode TrainConfig}; returns `"help"`
 * for `--help`.
 *
 * @throws {UsageError} Naming the flag and value: an unknown flag, a missing value, or a
 * value out of range.
 *
 * @example
 * ```ts
 * import { parseTrainArgs } from "./train.ts";
 * import assert from "node:assert/strict";
 * const config = parseTrainArgs(["--lr", "0.05", "--layers", "8,16,2", "--standardize"]);
 * assert.ok(config !== "help");
 * assert.deepEqual([config.lr, config.layers, config.standardize], [0.05, [8, 16, 2], true]);
 * assert.throws(() => parseTrainArgs(["--lr", "fast"]), /--lr must be a positive number, got "fast"/);
 * ```
 */
export function parseTrainArgs(args: readonly string[]): TrainConfig | "help" {
  const values = parseFlags(args, {
    data: { type: "string", default: DEFAULT_DATA },
    "data-url": { type: "string", default: HTRU2_URL },
    label: { type: "string" },
    layers: { type: "string", default: "8,25,10,2" },
    lr: { type: "string", default: "0.01" },
    batch: { type: "string", default: "100" },
    steps: { type: "string", default: "1000" },
    seed: { type: "string", default: "0" },
    "log-every": { type: "string", default: "50" },
    workers: { type: "string", default: "auto" },
    shards: { type: "string", default: "auto" },
    standardize: { type: "boolean", default: false },
    "test-fraction": { type: "string", default: "0" },
    out: { type: "string", default: "results" },
    help: { type: "boolean", short: "h", default: false },
  });
  if (values === "help") return "help";

  const bad = (flag: string, what: string): never => {
    const value = (values as Record<string, unknown>)[flag];
    throw new UsageError(`--${flag} must be ${what}, got "${value}"`);
  };
  const positiveInt = (flag: "batch" | "steps" | "log-every") =>
    parseIntegerFlag(flag, values[flag], { min: 1 });

  const layers = values.layers.split(",").map((s) => parseInteger(s.trim()) ?? 0);
  if (layers.length < 2 || !layers.every((n) => n >= 1)) {
    bad("layers", "two or more positive integers separated by commas, such as 8,25,10,2");
  }

  const lr = Number(values.lr);
  if (!DECIMAL.test(values.lr) || !Number.isFinite(lr) || lr <= 0) bad("lr", "a positive number");

  const seed = parseIntegerFlag("seed", values.seed);

  const workers = values.workers === "auto" ? "auto" : parseIntegerFlag("workers", values.workers, {
    min: 1,
    max: 256,
    what: `"auto" or an integer from 1 to 256`,
  });

  const batch = positiveInt("batch");
  const shards = values.shards === "auto" ? "auto" : parseIntegerFlag("shards", values.shards, {
    min: 1,
    max: batch,
    what: `"auto" or an integer from 1 to the batch (${batch})`,
  });

  const testFraction = Number(values["test-fraction"]);
  if (!DECIMAL.test(values["test-fraction"]) || !(testFraction >= 0 && testFraction < 1)) {
    bad("test-fraction", "a number in [0, 1), such as 0.2");
  }

  for (const flag of ["data", "out", "label"] as const) {
    if (values[flag] !== undefined && values[flag].trim() === "") bad(flag, "a non-empty string");
  }
  // fetch also takes data: and blob: URLs, but neither can usefully hold the archive.
  const dataUrl = URL.parse(values["data-url"]);
  if (!dataUrl || !["http:", "https:", "file:"].includes(dataUrl.protocol)) {
    bad("data-url", "an http:, https: or file: URL, such as file:///tmp/htru2.zip");
  }

  const config: TrainConfig = {
    data: values.data,
    dataUrl: values["data-url"],
    label: values.label ?? null,
    layers,
    lr,
    batch,
    steps: positiveInt("steps"),
    seed,
    logEvery: positiveInt("log-every"),
    workers,
    shards,
    standardize: values.standardize,
    testFraction,
    out: values.out,
  };
  return config;
}

/** The `evaluation` section of metrics.json. */
export interface Evaluation {
  /** Every row of the data set (training and held-out rows). */
  all: ClassificationMetrics;
  /** The rows trained on, when there is a held-out split. */
  train?: ClassificationMetrics;
  /** The held-out rows, when `--test-fraction` is above 0. */
  test?: ClassificationMetrics;
}

/** What metrics.json holds. */
export interface TrainMetrics {
  /** `"ok"`, or `"diverged"` when the loss became NaN or infinite (then no evaluation). */
  status: "ok" | "diverged";
  /** The flags, plus the RNG's name and the versions of the tools. */
  config: TrainConfig & { rng: string; versions: Record<string, string> };
  /** The data set as used: sizes, classes, split and standardization statistics. */
  data: {
    rows: number;
    features: string[];
    label: string;
    classCounts: Record<string, number>;
    trainRows: number;
    testRows: number;
    standardizer: Standardizer | null;
  };
  /** The training run. */
  training: {
    /** The batch loss after the update, every `logEvery` steps. */
    loss: { step: number; loss: number }[];
    /** Wall time of the training loop alone, in seconds. */
    seconds: number;
    /** Threads used, and why that many. */
    workers: number;
    workersReason: string;
    /** Micro-shards per batch: the gradient's fixed summation order, whatever the threads. */
    shards: number;
    /** The step where the loss became NaN or infinite, if it did. */
    divergedAt?: number;
  };
  /** Classification metrics after training; `null` when training diverged. */
  evaluation: Evaluation | null;
}

/** The outputs of one experiment, not yet written anywhere. */
export interface ExperimentResult {
  /** The metrics.json object. */
  metrics: TrainMetrics;
  /** The model.json text; `null` when training diverged (NaN weights cannot be saved). */
  model: string | null;
  /** The loss.svg text. */
  svg: string;
}

/** Optional inputs to {@linkcode runExperiment}. */
export interface ExperimentOptions {
  /** Data already loaded (e.g. once for many seeds); otherwise `config.data` is read. */
  data?: LabeledData;
  /** Called with each logged loss while training. */
  onLog?: (entry: { step: number; loss: number }) => void;
  /** Stops training between steps. */
  signal?: AbortSignal;
  /** The trainer to use; tests substitute one to inject faults. Default `train`. */
  train?: typeof train;
}

/** The RNG every random draw of a run comes from, as named in metrics.json. */
export const RNG_NAME = "xoshiro128** (splitmix32 seeding)";

/**
 * Runs one experiment in memory: loads and checks the data, splits it (stratified, seeded),
 * standardizes with training statistics, initialises the MLP, trains, evaluates, and
 * renders model.json and loss.svg. Random draws, in order: the split and the initial
 * weights from `createRng(seed)`, then the batches from the trainer's own seeded stream.
 *
 * @throws {UsageError} If the layers do not fit the data (features in, classes out).
 * @throws {DataError} If the data file is missing or invalid.
 * @throws {Error} Whatever the trainer throws (e.g. a worker crash), or if it was aborted.
 *
 * @example A short run on a tiny data set
 * ```ts
 * import { runExperiment, parseTrainArgs, type TrainConfig } from "./train.ts";
 * import { parseLabeledCsv } from "../lib/data/csv.ts";
 * import assert from "node:assert/strict";
 * const data = parseLabeledCsv("a,b,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
 * const config = parseTrainArgs(["--layers", "2,4,2", "--steps", "20", "--log-every", "10",
 *   "--batch", "4", "--workers", "1"]) as TrainConfig;
 * const { metrics, model } = await runExperiment(config, { data });
 * assert.equal(metrics.status, "ok");
 * assert.equal(metrics.training.loss.length, 2);
 * assert.ok(model?.startsWith("{"));
 * ```
 */
export async function runExperiment(
  config: TrainConfig,
  options: ExperimentOptions = {},
): Promise<ExperimentResult> {
  const data = options.data ??
    await loadLabeledCsv(config.data, config.label === null ? {} : { label: config.label });
  const k = data.classes.length;
  if (data.classes.some((c, i) => c !== i)) {
    throw new DataError(
      `${config.data}: the labels must be the classes 0 to ${k - 1}, ` +
        `found ${data.classes.join(", ")}`,
    );
  }
  const layersText = config.layers.join(",");
  if (config.layers[0] !== data.X.cols) {
    throw new UsageError(
      `--layers ${layersText}: the first layer must equal the number of features in ` +
        `${config.data} (${data.X.cols}: ${data.featureNames.join(", ")})`,
    );
  }
  if (config.layers.at(-1) !== k) {
    throw new UsageError(
      `--layers ${layersText}: the last layer must equal the number of classes in ` +
        `${config.data} (${k})`,
    );
  }

  const rng = createRng(config.seed);
  let split;
  try {
    split = stratifiedSplit(data.labels, config.testFraction, rng);
  } catch (e) {
    const why = (e as Error).message.replace(/^stratifiedSplit: /, "");
    throw new UsageError(`--test-fraction ${config.testFraction}: ${why}`);
  }
  const held = split.test.length > 0;
  let Xtrain = held ? takeRows(data.X, split.train) : data.X;
  let Xall = data.X;
  let standardizer: Standardizer | null = null;
  if (config.standardize) {
    standardizer = fitStandardizer(Xtrain);
    Xtrain = standardize(Xtrain, standardizer);
    Xall = standardize(data.X, standardizer);
  }
  const trainLabels = held ? split.train.map((i) => data.labels[i]) : data.labels;
  const params = initMLP(config.layers, rng);

  const result = await (options.train ?? train)({
    params,
    X: Xtrain,
    Y: oneHot(trainLabels, k),
    lr: config.lr,
    batch: config.batch,
    steps: config.steps,
    seed: config.seed,
    workers: config.workers,
    shards: config.shards === "auto" ? undefined : config.shards,
    logEvery: config.logEvery,
    onLog: options.onLog,
    signal: options.signal,
  });
  if (result.status === "aborted") throw new Error("Training was aborted; nothing was written");

  const diverged = result.status === "diverged";
  let evaluation: Evaluation | null = null;
  if (!diverged) {
    // One forward pass over every row; the train and test scores pick their rows from it.
    const predicted = predictClasses(result.params, Xall);
    const score = (rows: number[]) =>
      classificationMetrics(rows.map((i) => predicted[i]), rows.map((i) => data.labels[i]), k);
    evaluation = { all: classificationMetrics(predicted, data.labels, k) };
    if (held) {
      evaluation.train = score(split.train);
      evaluation.test = score(split.test);
    }
  }

  const classCounts: Record<string, number> = {};
  for (const c of data.classes) classCounts[c] = data.labels.filter((l) => l === c).length;
  const metrics: TrainMetrics = {
    status: diverged ? "diverged" : "ok",
    config: { ...config, rng: RNG_NAME, versions: versions() },
    data: {
      rows: data.X.rows,
      features: data.featureNames,
      label: data.labelName,
      classCounts,
      trainRows: split.train.length,
      testRows: split.test.length,
      standardizer,
    },
    training: {
      loss: result.loss,
      seconds: result.seconds,
      workers: result.workers,
      workersReason: result.workersReason,
      shards: result.shards,
      ...(diverged ? { divergedAt: result.divergedAt } : {}),
    },
    evaluation,
  };
  const features = config.standardize ? "standardized features" : "raw features";
  const heldOut = held ? `, ${+(config.testFraction * 100).toPrecision(6)}% held out` : "";
  const svg = renderLossSvg(result.loss, {
    title: `Training loss: ${config.layers.join("-")} tanh MLP`,
    subtitle:
      `${
        basename(config.data)
      } · seed ${config.seed} · lr ${config.lr} · batch ${config.batch} · ` +
      `${config.steps} steps · ${result.workers} worker${result.workers === 1 ? "" : "s"} · ` +
      `${features}${heldOut}`,
    yLabel: "batch MSE after the update",
    divergedAt: diverged ? result.divergedAt : undefined,
  });
  return {
    metrics,
    model: diverged
      ? null
      : serializeModel(config.layers, result.params, standardizer ?? undefined),
    svg,
  };
}

/** The versions recorded with every run. */
function versions(): Record<string, string> {
  return {
    denograd: denoJson.version,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
  };
}

/** Where {@linkcode runTrain} prints; tests capture it. */
export interface TrainIO {
  /** A line of normal output (stdout). */
  log(line: string): void;
  /** A line of error output (stderr). */
  error(line: string): void;
  /** Redraws the progress bar in place; absent when output is not a terminal. */
  progress?: (text: string) => void;
}

const encoder = new TextEncoder();
const consoleIO: TrainIO = {
  log: (line) => console.log(line),
  error: (line) => console.error(line),
  progress: Deno.stderr.isTerminal()
    ? (text) => Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${text}`))
    : undefined,
};

/**
 * The whole CLI: parses `args`, runs the experiment, prints progress and results, writes
 * `metrics.json`, `model.json` and `loss.svg` atomically into `--out`, and returns the exit
 * code (0 trained, 1 training or I/O error, 2 bad flags or data, 3 diverged). A failed run
 * writes nothing; a diverged run writes metrics.json and loss.svg but no model.
 *
 * @example Flag errors name the flag and give exit code 2
 * ```ts
 * import { runTrain } from "./train.ts";
 * import assert from "node:assert/strict";
 * const errors: string[] = [];
 * const code = await runTrain(["--batch", "0"], { log() {}, error: (l) => errors.push(l) });
 * assert.equal(code, 2);
 * assert.match(errors[0], /--batch must be a positive integer, got "0"/);
 * ```
 */
export async function runTrain(
  args: readonly string[],
  io: TrainIO = consoleIO,
  options: Pick<ExperimentOptions, "train" | "signal"> = {},
): Promise<number> {
  let config: TrainConfig | "help";
  try {
    config = parseTrainArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.error(`error: ${e.message}\nRun with --help for the options.`);
    return 2;
  }
  if (config === "help") {
    io.log(USAGE);
    return 0;
  }
  io.log(`train.ts ${JSON.stringify({ ...config, rng: RNG_NAME, versions: versions() })}`);

  try {
    if (!(await ensureDefaultData(config.data, io, { url: config.dataUrl }))) return 1;

    const { progress } = io;
    const steps = config.steps;
    const width = String(steps).length; // log lines align; the bar redraws in place
    const onLog = ({ step, loss }: { step: number; loss: number }) => {
      if (progress) progress(`${bar(step / steps)} step ${step}/${steps}  loss ${fmt(loss)}`);
      else io.log(`step ${String(step).padStart(width)}/${steps}  loss ${fmt(loss)}`);
    };
    let result: ExperimentResult;
    try {
      result = await runExperiment(config, { ...options, onLog });
    } finally {
      progress?.("");
    }
    const { metrics } = result;
    const t = metrics.training;
    const done = t.divergedAt === undefined
      ? `Trained ${steps} steps`
      : `Stopped at step ${t.divergedAt} of ${steps}`;
    io.log(
      `${done} in ${t.seconds.toFixed(2)} s on ${t.workers} ` +
        `worker${t.workers === 1 ? "" : "s"} (${t.workersReason})`,
    );

    const files: [string, string][] = [["loss.svg", result.svg]];
    if (result.model !== null) files.push(["model.json", result.model]);
    else {
      // A model.json from an earlier run in this folder would not match this run's record.
      await Deno.remove(join(config.out, "model.json")).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    }
    files.push(["metrics.json", formatJson(metrics)]); // last: it is the record of the run
    for (const [name, text] of files) await writeFileAtomic(join(config.out, name), text);

    if (metrics.status === "diverged") {
      io.error(
        `error: the loss became NaN or infinite at step ${t.divergedAt} of ${steps} ` +
          `(--lr ${config.lr}${config.standardize ? ", --standardize" : ""}). Try a smaller ` +
          `--lr (the experiment uses 0.01)` +
          (config.standardize ? "." : ", or --standardize to put the features on one scale."),
      );
      io.error(
        `Wrote ${join(config.out, "metrics.json")} (status "diverged") and loss.svg; no model ` +
          "(any earlier model.json there was removed).",
      );
      return 3;
    }
    const ev = metrics.evaluation!;
    io.log(`All ${metrics.data.rows} rows:  ${summary(ev.all)}`);
    if (ev.test) io.log(`Held-out ${metrics.data.testRows} rows:  ${summary(ev.test)}`);
    io.log(`Wrote ${files.map(([name]) => join(config.out, name)).join(", ")}`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof DataError) {
      io.error(`error: ${e.message}`);
      return 2;
    }
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      io.error(
        `error: ${(e as Error).message}\n\`deno task train\` may read and write any path; ` +
          `with \`deno run\`, add the permission flag named above (e.g. --allow-write=DIR).`,
      );
      return 2;
    }
    io.error(`error: ${(e as Error).message}`);
    return 1;
  }
}

/**
 * JSON indented by two spaces like `JSON.stringify(value, null, 2)`, except that an array or
 * object holding no arrays or objects stays on one line when it fits in 100 characters, so
 * a loss entry or a confusion row reads as one line. Ends with a newline.
 *
 * @example
 * ```ts
 * import { formatJson } from "./train.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatJson({ a: [1, 2], b: { c: [[1], [2]] } }),
 *   '{\n  "a": [1, 2],\n  "b": {\n    "c": [\n      [1],\n      [2]\n    ]\n  }\n}\n');
 * ```
 */
export function formatJson(value: unknown): string {
  const format = (v: unknown, indent: string): string => {
    if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
    const isArray = Array.isArray(v);
    const entries = isArray
      ? (v as unknown[]).map((x) => ["", x] as const)
      : Object.entries(v).filter(([, x]) => x !== undefined);
    const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
    if (entries.length === 0) return open + close;
    const key = (k: string) => isArray ? "" : `${JSON.stringify(k)}: `;
    const flat = entries.every(([, x]) => x === null || typeof x !== "object");
    if (flat) {
      const line = `${open}${entries.map(([k, x]) => key(k) + format(x, "")).join(", ")}${close}`;
      if (indent.length + line.length <= 100) return line;
    }
    const inner = indent + "  ";
    const lines = entries.map(([k, x]) => inner + key(k) + format(x, inner));
    return `${open}\n${lines.join(",\n")}\n${indent}${close}`;
  };
  return format(value, "") + "\n";
}

function summary(m: ClassificationMetrics): string {
  const pct = (v: number) => v.toFixed(3);
  return `accuracy ${pct(m.accuracy)}  recall(1) ${pct(m.recall["1"] ?? 0)}  ` +
    `recall(0) ${pct(m.recall["0"] ?? 0)}`;
}

function fmt(loss: number): string {
  return Number.isFinite(loss) ? loss.toFixed(6) : String(loss);
}

function bar(fraction: number, width = 30): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
}

if (import.meta.main) Deno.exit(await runTrain(Deno.args));
