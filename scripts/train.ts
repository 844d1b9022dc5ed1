// CLI: train the tanh MLP on a labelled CSV; write metrics.json, model.json and loss.svg.
// Flags become an ExperimentConfig; lib/experiment.ts runs it; _outputs.ts writes the files.

import { DataError, DECIMAL } from "../lib/data/csv.ts";
import { HTRU2_URL } from "../lib/data/htru2.ts";
import {
  ConfigError,
  EXPERIMENT_DEFAULTS,
  type ExperimentConfig,
  type ExperimentResult,
  experimentVersions,
  LR_SCHEDULES,
  OPTIMIZERS,
  RNG_NAME,
  runExperiment,
} from "../lib/experiment.ts";
import type { ClassificationMetrics } from "../lib/nn/metrics.ts";
import type { LossEntry } from "../lib/train/train.ts";
import { DEFAULT_DATA, ensureDefaultData } from "./data.ts";
import {
  flagOf,
  type FlagValues,
  parseFlags,
  parseInteger,
  parseIntegerFlag,
  parseLabelFlag,
  parseWorkersFlag,
  UsageError,
} from "./_flags.ts";
import { openOutputs, writeOutputs } from "./_outputs.ts";
import { OutputDirError, type WriteFile } from "../lib/_fs.ts";

// Both were first defined here; callers such as the tests import them from train.ts.
export { DEFAULT_DATA, UsageError };

const USAGE = `Usage: deno task train [options]
   or: deno run --allow-read --allow-write --allow-net=archive.ics.uci.edu scripts/train.ts [options]

Trains a tanh MLP by minibatch gradient descent (by default the 8-25-10-2 pulsar experiment
with plain SGD) and writes metrics.json, model.json and loss.svg to the output directory.

Options:
  --data PATH           labelled numeric CSV, with a header unless --no-header (default
                        ${DEFAULT_DATA};
                        downloaded when that default file is missing)
  --data-url URL        where that download comes from: an http:, https: or file: URL of
                        the HTRU2 zip, for mirrors and offline copies; a host other than
                        UCI needs \`deno run --allow-net=HOST\` (default
                        ${HTRU2_URL})
  --no-header           the file has no header row: its first line is data, the columns are
                        named "column 1", "column 2", … (the original UCI HTRU_2.csv)
  --label NAME|N        label column: its name, or its 1-based position N (default: the
                        last column); a label outside the network's classes (0 to the last
                        layer - 1) is an error naming its line
  --layers LIST         layer sizes, inputs first (default 8,25,10,2); the first must equal
                        the number of features, the last the number of classes
  --lr X                learning rate (default 0.01); a schedule's peak
  --optimizer NAME      sgd (default: plain SGD, the published experiment), momentum (SGD
                        with momentum 0.9), rmsprop (decay 0.9), adam (betas 0.9, 0.999,
                        eps 1e-8) or adamw (Adam with decoupled weight decay 0.01)
  --lr-schedule NAME    the learning rate over the run's T steps: constant (default);
                        cosine (from --lr down to 0 at step T by a half cosine); exponential
                        (smoothly from --lr down to --lr/10 at step T); warmup-cosine (up
                        linearly from 0 to --lr over the first 5% of the steps, then cosine
                        down to 0 at step T)
  --batch N             rows per step (default 100); with replacement it may exceed
                        the rows in the data, but a step must fit in memory: about 2.7 KB a
                        row for 8-25-10-2, up to half the machine's memory with
                        --allow-sys=systemMemoryInfo, else 4 GiB (checked before reading data)
  --steps N             steps, each on a batch drawn with replacement (default 1000)
  --epochs N            instead of --steps: N epochs, each a seeded shuffle of the training
                        rows cut into floor(rows / batch) whole batches; the rows left over
                        by a shuffle sit that epoch out (the next shuffle leaves out others)
  --seed N              seed of the xoshiro128** generator: same seed, same bits (default 0)
  --log-every N         log the batch loss every N steps and at the last (default 50)
  --workers auto|N      threads for the gradient (default auto: picked from the work per step);
                        at most one per micro-shard
  --shards auto|N       micro-shards per batch, summed in a fixed order so results do not depend
                        on --workers (default auto: 1 under 2M multiply-adds a step, else 6)
  --standardize         z-score the features with the training rows' mean and std
  --test-fraction F     hold out a stratified fraction F in [0, 1) and evaluate it
                        separately (default 0: train and evaluate on all rows)
  --val-fraction F      hold out a stratified fraction F in [0, 1) of the training rows as
                        validation data (default 0: none): its loss is logged every
                        --log-every steps, and the parameters with the lowest validation loss
                        are the ones saved; --standardize then uses the remaining rows
  --patience N          stop after N validation losses in a row without a new lowest one
                        (default: never stop early; needs --val-fraction)
  --checkpoint PATH     write a checkpoint (parameters, optimizer state, RNG, step) to PATH
                        every --log-every steps and after the last, replaced atomically
  --resume PATH         continue from a checkpoint of a run with the same flags but fewer
                        --steps or --epochs: the result is bit for bit that of one run
  --out DIR             output directory (default results/). It is locked while a run uses
                        it, checked before training, and becomes a symbolic link to a
                        complete set in DIR.d/ that a successful run swaps in one step
  -h, --help            show this help

Under \`deno task\`, relative paths are taken from the repository root (where deno.json is).
Negative numbers need the = form: --seed=-1.
Exit status: 0 trained; 1 training or I/O error, including an --out that cannot be written
or is in use by another run (found before training); 2 bad flags or data; 3 training
diverged: the previous outputs in DIR are kept and the diverged run's metrics.json and
loss.svg go to DIR.d/diverged/ instead.`;

/** The experiment's config plus what only the CLI needs; printed and saved in metrics.json. */
export interface TrainConfig extends Required<ExperimentConfig> {
  /** Where the HTRU2 zip is downloaded from when `data` is the default file and missing. */
  dataUrl: string;
  /** Output directory. */
  out: string;
}

const defaults = EXPERIMENT_DEFAULTS;
const TRAIN_FLAGS = {
  data: { type: "string", default: DEFAULT_DATA },
  "data-url": { type: "string", default: HTRU2_URL },
  label: { type: "string" },
  "no-header": { type: "boolean", default: false },
  layers: { type: "string", default: defaults.layers.join(",") },
  lr: { type: "string", default: String(defaults.lr) },
  batch: { type: "string", default: String(defaults.batch) },
  optimizer: { type: "string", default: String(defaults.optimizer) },
  "lr-schedule": { type: "string", default: String(defaults.lrSchedule) },
  steps: { type: "string" },
  epochs: { type: "string" },
  "val-fraction": { type: "string", default: String(defaults.valFraction) },
  patience: { type: "string" },
  checkpoint: { type: "string" },
  resume: { type: "string" },
  seed: { type: "string", default: String(defaults.seed) },
  "log-every": { type: "string", default: String(defaults.logEvery) },
  workers: { type: "string", default: String(defaults.workers) },
  shards: { type: "string", default: String(defaults.shards) },
  standardize: { type: "boolean", default: defaults.standardize },
  "test-fraction": { type: "string", default: String(defaults.testFraction) },
  out: { type: "string", default: "results" },
  help: { type: "boolean", short: "h", default: false },
} as const;

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
  const values = parseFlags(args, TRAIN_FLAGS);
  if (values === "help") return "help";
  for (const flag of ["data", "out", "checkpoint", "resume"] as const) {
    if (values[flag]?.trim() === "") mustBe(flag, values[flag], "a non-empty string");
  }
  const batch = parseIntegerFlag("batch", values.batch, { min: 1 });
  const { steps, epochs, valFraction, patience } = parseLengthFlags(values);
  return {
    data: values.data,
    dataUrl: parseDataUrl(values["data-url"]),
    label: values.label === undefined ? null : parseLabelFlag(values.label),
    header: !values["no-header"],
    layers: parseLayers(values.layers),
    lr: parseDecimal("lr", values.lr, (x) => x > 0, "a positive number"),
    optimizer: parseChoice("optimizer", values.optimizer, OPTIMIZERS),
    lrSchedule: parseChoice("lr-schedule", values["lr-schedule"], LR_SCHEDULES),
    batch,
    steps,
    epochs,
    valFraction,
    patience,
    checkpoint: values.checkpoint ?? null,
    resume: values.resume ?? null,
    seed: parseIntegerFlag("seed", values.seed),
    logEvery: parseIntegerFlag("log-every", values["log-every"], { min: 1 }),
    workers: parseWorkersFlag(values.workers),
    shards: values.shards === "auto" ? "auto" : parseIntegerFlag("shards", values.shards, {
      min: 1,
      max: batch,
      what: `"auto" or an integer from 1 to the batch (${batch})`,
    }),
    standardize: values.standardize,
    testFraction: parseDecimal(
      "test-fraction",
      values["test-fraction"],
      (x) => x >= 0 && x < 1,
      "a number in [0, 1), such as 0.2",
    ),
    out: values.out,
  };
}

/** How long a run lasts and what stops it early: `--steps` or `--epochs`, validation, patience. */
function parseLengthFlags(values: FlagValues<typeof TRAIN_FLAGS>) {
  if (values.steps !== undefined && values.epochs !== undefined) {
    throw new UsageError(
      `--steps and --epochs exclude each other: --steps counts batches drawn with replacement, ` +
        `--epochs passes over shuffled rows; got --steps ${values.steps} --epochs ${values.epochs}`,
    );
  }
  const valFraction = parseDecimal(
    "val-fraction",
    values["val-fraction"],
    (x) => x >= 0 && x < 1,
    "a number in [0, 1), such as 0.1",
  );
  const patience = values.patience === undefined
    ? null
    : parseIntegerFlag("patience", values.patience, { min: 1 });
  if (patience !== null && valFraction === 0) {
    throw new UsageError(
      `--patience ${values.patience} needs validation data to watch: add --val-fraction, such as 0.1`,
    );
  }
  const steps = values.steps === undefined
    ? defaults.steps
    : parseIntegerFlag("steps", values.steps, { min: 1 });
  const epochs = values.epochs === undefined
    ? null
    : parseIntegerFlag("epochs", values.epochs, { min: 1 });
  return { steps, epochs, valFraction, patience };
}

/** One of `choices`, else a usage error listing them. */
function parseChoice<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) {
    mustBe(flag, text, `one of ${choices.join(", ")}`);
  }
  return text as T;
}

function mustBe(flag: string, value: string | undefined, what: string): never {
  throw new UsageError(`--${flag} must be ${what}, got "${value}"`);
}

/** A finite decimal number (no hex, no "Infinity") that passes `ok`. */
function parseDecimal(flag: string, text: string, ok: (x: number) => boolean, what: string) {
  const x = Number(text);
  if (!DECIMAL.test(text) || !Number.isFinite(x) || !ok(x)) mustBe(flag, text, what);
  return x;
}

function parseLayers(text: string): number[] {
  const layers = text.split(",").map((s) => parseInteger(s.trim()) ?? 0);
  if (layers.length < 2 || !layers.every((n) => n >= 1)) {
    mustBe("layers", text, "two or more positive integers separated by commas, such as 8,25,10,2");
  }
  return layers;
}

function parseDataUrl(text: string): string {
  // fetch also takes data: and blob: URLs, but neither can usefully hold the archive.
  const url = URL.parse(text);
  if (!url || !["http:", "https:", "file:"].includes(url.protocol)) {
    mustBe("data-url", text, "an http:, https: or file: URL, such as file:///tmp/htru2.zip");
  }
  return text;
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

/** Options for {@linkcode runTrain}. */
export interface RunTrainOptions {
  /** Stops training between steps; the run then exits 1 and writes nothing. */
  signal?: AbortSignal;
  /** Writes each output file; inject a failing one to test. Default: write and fsync. */
  writeFile?: WriteFile;
}

/**
 * The whole CLI: parses `args`, opens and locks `--out` (failing before training if it
 * cannot be written or another run holds it), runs the experiment, prints progress and
 * results, replaces `metrics.json`, `model.json` and `loss.svg` in `--out` as one unit, and
 * returns the exit code (0 trained, 1 training or I/O error, 2 bad flags or data, 3
 * diverged). A failed run writes nothing; a diverged run keeps the previous set and writes
 * its metrics.json and loss.svg to `OUT.d/diverged/`.
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
  options: RunTrainOptions = {},
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
  io.log(
    `train.ts ${JSON.stringify({ ...config, rng: RNG_NAME, versions: experimentVersions() })}`,
  );
  let out;
  try {
    out = await openOutputs(config.out, { writeFile: options.writeFile });
    if (!(await ensureDefaultData(config.data, io, { url: config.dataUrl }))) return 1;
    const result = await runWithProgress(config, io, options.signal);
    const paths = await writeOutputs(out, result);
    return report(config, result, paths, io);
  } catch (e) {
    return reportError(e, io);
  } finally {
    out?.close();
  }
}

/** Runs the experiment, showing each logged loss as a progress bar or a log line. */
async function runWithProgress(
  config: TrainConfig,
  io: TrainIO,
  signal: AbortSignal | undefined,
): Promise<ExperimentResult<TrainConfig>> {
  const { progress } = io;
  // With --epochs the number of steps is known only once the data is split.
  const steps = config.epochs === null ? config.steps : undefined;
  const of = steps === undefined ? "" : `/${steps}`;
  const width = String(steps ?? "").length; // log lines align; the bar redraws in place
  const onLog = ({ step, loss, validation }: LossEntry) => {
    const v = validation === undefined ? "" : `  validation ${fmt(validation)}`;
    const text = `step ${String(step).padStart(width)}${of}  loss ${fmt(loss)}${v}`;
    if (progress) progress(steps === undefined ? text : `${bar(step / steps)} ${text}`);
    else io.log(text);
  };
  try {
    return await runExperiment(config, { onLog, signal });
  } finally {
    progress?.("");
  }
}

/** Prints the outcome of a finished run and returns its exit code (0, or 3 if diverged). */
function report(
  config: TrainConfig,
  { metrics }: ExperimentResult<TrainConfig>,
  paths: string[],
  io: TrainIO,
): number {
  const t = metrics.training;
  const planned = config.epochs === null ? ` of ${config.steps}` : "";
  const epochs = config.epochs === null ? "" : ` (${config.epochs} epochs)`;
  const done = t.divergedAt !== undefined
    ? `Stopped at step ${t.divergedAt}${planned}`
    : t.stoppedEarly
    ? `Stopped early at step ${t.steps}${planned}`
    : `Trained ${t.steps} steps${epochs}`;
  const workers = `${t.workers} worker${t.workers === 1 ? "" : "s"}`;
  io.log(`${done} in ${t.seconds.toFixed(2)} s on ${workers} (${t.workersReason})`);
  if (t.best) {
    io.log(
      `Kept the parameters of step ${t.best.step}, the lowest validation loss ` +
        `(${fmt(t.best.validationLoss)})`,
    );
  }
  if (metrics.evaluation === null) {
    io.error(
      `error: the loss became NaN or infinite at step ${t.divergedAt}${planned} ` +
        `(--lr ${config.lr}${config.standardize ? ", --standardize" : ""}). Try a smaller ` +
        `--lr (the experiment uses 0.01)` +
        (config.standardize ? "." : ", or --standardize to put the features on one scale."),
    );
    io.error(
      `Wrote ${paths.at(-1)} (status "diverged") and loss.svg beside it; no model. ` +
        `The previous outputs in ${config.out} are unchanged.`,
    );
    return 3;
  }
  const ev = metrics.evaluation;
  io.log(`All ${metrics.data.rows} rows:  ${summary(ev.all)}`);
  if (ev.validation) {
    io.log(`Validation ${metrics.data.validationRows} rows:  ${summary(ev.validation)}`);
  }
  if (ev.test) io.log(`Held-out ${metrics.data.testRows} rows:  ${summary(ev.test)}`);
  io.log(`Wrote ${paths.join(", ")}`);
  return 0;
}

/** Prints a failed run's error and returns its exit code: 2 for flags or data, else 1. */
function reportError(e: unknown, io: TrainIO): number {
  if (e instanceof OutputDirError) {
    io.error(`error: ${e.message}`);
    return 1;
  }
  if (e instanceof ConfigError) {
    // The library names its config field; the user knows it by its flag.
    io.error(`error: ${flagOf(e.key)} ${e.value}: ${e.reason}`);
    return 2;
  }
  if (e instanceof DataError) {
    io.error(`error: ${e.message}`);
    return 2;
  }
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
    io.error(
      `error: ${e.message}\n\`deno task train\` may read and write any path; ` +
        `with \`deno run\`, add the flag that Deno names above.`,
    );
    return 2;
  }
  io.error(`error: ${(e as Error).message}`);
  return 1;
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
