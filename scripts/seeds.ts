// CLI: the pulsar experiment over many seeds, original protocol vs standardized with a held-out split.

import { OutputDirError } from "../lib/_fs.ts";
import { DataError, type LabeledData, loadLabeledCsv } from "../lib/data/csv.ts";
import {
  ConfigError,
  EXPERIMENT_DEFAULTS,
  type ExperimentConfig,
  RNG_NAME,
  runExperiment,
} from "../lib/experiment.ts";
import type { ClassificationMetrics } from "../lib/nn/metrics.ts";
import { DEFAULT_DATA, ensureDefaultData } from "./data.ts";
import {
  parseFlags,
  parseIntegerFlag,
  parseLabelFlag,
  parseWorkersFlag,
  UsageError,
} from "./_flags.ts";
import { formatJson, openOutputs } from "./_outputs.ts";

const USAGE = `Usage: deno task seeds [options]

Runs the pulsar experiment for seeds 0..N-1 under two protocols and writes a markdown table
(mean ± sample std) to DIR/seeds.md and the per-seed numbers to DIR/seeds.json:
  original      raw features, trained and evaluated on all rows (the published protocol)
  standardized  --standardize --test-fraction 0.2, evaluated on the held-out 20%

Options:
  --data PATH      the CSV (default ${DEFAULT_DATA}; downloaded when that file is missing)
  --no-header      the file has no header row: its first line is data, the columns are
                   named "column 1", "column 2", … (the original UCI HTRU_2.csv)
  --label NAME|N   label column: its name, or its 1-based position N (default: the last
                   column); a label other than 0 or 1 is an error naming its line
  --seeds N        number of seeds (default 10)
  --workers auto|N threads per run (default 1)
  --out DIR        output directory (default results/), shared with train: seeds.md and
                   seeds.json replace the previous pair as one unit and train's files stay
                   (see train --help on DIR.d/ and the lock)
  -h, --help       show this help

Exit status: 0 done; 1 training or I/O error, including an --out that cannot be written or
is in use by another run (found before training); 2 bad flags or data.`;

/**
 * The two protocols compared: how each changes the published experiment's config, the same
 * as `train.ts` flags (for the table), and the rows each is judged on.
 */
export const PROTOCOLS = [
  { name: "original", config: {}, flags: [], evaluatedOn: "all" },
  {
    name: "standardized",
    config: { standardize: true, testFraction: 0.2 },
    flags: ["--standardize", "--test-fraction", "0.2"],
    evaluatedOn: "test",
  },
] as const satisfies readonly {
  name: string;
  config: Partial<ExperimentConfig>;
  flags: readonly string[];
  evaluatedOn: "all" | "test";
}[];

/** Mean and sample standard deviation (divided by n - 1; 0 for a single value). */
export interface MeanStd {
  /** The mean. */
  mean: number;
  /** The sample standard deviation. */
  std: number;
}

/**
 * Mean and sample standard deviation of `values`.
 *
 * @example
 * ```ts
 * import { meanStd } from "./seeds.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(meanStd([1, 2, 3]), { mean: 2, std: 1 });
 * ```
 */
export function meanStd(values: readonly number[]): MeanStd {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const squares = values.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, std: values.length > 1 ? Math.sqrt(squares / (values.length - 1)) : 0 };
}

/** One seed's scores under one protocol. */
export interface SeedRun {
  /** The seed. */
  seed: number;
  /** Accuracy on the protocol's rows. */
  accuracy: number;
  /** Recall of class 0 (non-pulsars). */
  recall0: number;
  /** Recall of class 1 (pulsars). */
  recall1: number;
  /** Training time in seconds. */
  seconds: number;
}

/** One protocol's results over all seeds. */
export interface ProtocolSummary {
  /** `"original"` or `"standardized"`. */
  name: string;
  /** The `train.ts` flags of the protocol. */
  flags: readonly string[];
  /** `"all"` rows, or the held-out `"test"` rows. */
  evaluatedOn: "all" | "test";
  /** Rows evaluated per seed. */
  rows: number;
  /** The network and SGD settings every run used, e.g. "8-25-10-2 tanh MLP, lr 0.01, ...". */
  setup: string;
  /** Per seed: accuracy and recall of each class. */
  runs: SeedRun[];
  /** Over the seeds. */
  accuracy: MeanStd;
  /** Recall of class 0 over the seeds. */
  recall0: MeanStd;
  /** Recall of class 1 over the seeds. */
  recall1: MeanStd;
}

/** Options for {@linkcode runSeeds}: changes to the published experiment for every run. */
export interface SeedsOptions {
  /** The data's path, for messages and the record. Default `data/pulsars_tuned.csv`. */
  dataPath?: string;
  /** Number of seeds, 0..seeds-1. Default 10. */
  seeds?: number;
  /** Threads per run. Default 1. */
  workers?: number | "auto";
  /** Layer sizes. Default the experiment's 8,25,10,2. */
  layers?: number[];
  /** SGD steps (logging every step). Default the experiment's 1000. */
  steps?: number;
}

/**
 * The config of one run: the published experiment, changed by the options, then the protocol.
 *
 * @example
 * ```ts
 * import { PROTOCOLS, seedConfig } from "./seeds.ts";
 * import assert from "node:assert/strict";
 * const config = seedConfig(PROTOCOLS[1], 3, { dataPath: "p.csv" });
 * assert.deepEqual([config.seed, config.standardize, config.testFraction], [3, true, 0.2]);
 * ```
 */
export function seedConfig(
  protocol: (typeof PROTOCOLS)[number],
  seed: number,
  options: SeedsOptions = {},
): ExperimentConfig {
  return {
    ...EXPERIMENT_DEFAULTS,
    data: options.dataPath ?? DEFAULT_DATA,
    workers: options.workers ?? 1,
    ...(options.layers ? { layers: options.layers } : {}),
    ...(options.steps ? { steps: options.steps, logEvery: 1 } : {}),
    ...protocol.config,
    seed,
  };
}

/**
 * Runs both protocols for seeds `0..seeds-1` in this process (data loaded once) and
 * summarises accuracy and per-class recall.
 *
 * @example Two seeds on a tiny data set
 * ```ts
 * import { runSeeds } from "./seeds.ts";
 * import { parseLabeledCsv } from "../lib/data/csv.ts";
 * import assert from "node:assert/strict";
 * const rows = Array.from({ length: 40 }, (_, i) => `${i % 2},${(i * 7) % 5},${i % 2}`);
 * const data = parseLabeledCsv(`a,b,label\n${rows.join("\n")}\n`);
 * const summary = await runSeeds(data, { seeds: 2, layers: [2, 4, 2], steps: 10 });
 * assert.deepEqual(summary.map((p) => p.runs.length), [2, 2]);
 * ```
 */
export async function runSeeds(
  data: LabeledData,
  options: SeedsOptions = {},
): Promise<ProtocolSummary[]> {
  const summaries: ProtocolSummary[] = [];
  for (const protocol of PROTOCOLS) {
    const runs: SeedRun[] = [];
    let rows = 0;
    for (let seed = 0; seed < (options.seeds ?? 10); seed++) {
      const { metrics } = await runExperiment(seedConfig(protocol, seed, options), { data });
      if (metrics.evaluation === null) {
        throw new Error(`${protocol.name} protocol, seed ${seed}: training diverged`);
      }
      const m = metrics.evaluation[protocol.evaluatedOn] as ClassificationMetrics;
      rows = m.confusion.flat().reduce((a, b) => a + b, 0);
      runs.push({
        seed,
        accuracy: m.accuracy,
        recall0: m.recall["0"],
        recall1: m.recall["1"],
        seconds: metrics.training.seconds,
      });
    }
    const { name, flags, evaluatedOn } = protocol;
    summaries.push({
      name,
      flags,
      evaluatedOn,
      rows,
      setup: describeSetup(seedConfig(protocol, 0, options)),
      runs,
      accuracy: meanStd(runs.map((r) => r.accuracy)),
      recall0: meanStd(runs.map((r) => r.recall0)),
      recall1: meanStd(runs.map((r) => r.recall1)),
    });
  }
  return summaries;
}

function describeSetup(config: ExperimentConfig): string {
  return `${config.layers.join("-")} tanh MLP, lr ${config.lr}, batch ${config.batch}, ` +
    `${config.steps.toLocaleString("en")} steps`;
}

/**
 * The summary as a markdown table, one row per protocol.
 *
 * @example
 * ```ts
 * import { seedsTable } from "./seeds.ts";
 * import assert from "node:assert/strict";
 * const ms = { mean: 0.9, std: 0.01 };
 * const table = seedsTable([{ name: "original", flags: [], evaluatedOn: "all", rows: 3278,
 *   setup: "8-25-10-2 tanh MLP", runs: [], accuracy: ms, recall0: ms, recall1: ms }]);
 * assert.match(table, /\| 0\.900 ± 0\.010 \|/);
 * ```
 */
export function seedsTable(summaries: readonly ProtocolSummary[]): string {
  const cell = (m: MeanStd) => `${m.mean.toFixed(3)} ± ${m.std.toFixed(3)}`;
  const seeds = summaries[0]?.runs.length ?? 0;
  const lines = [
    `| protocol | evaluated on | accuracy | recall (pulsar, 1) | recall (non-pulsar, 0) |`,
    `|---|---|---|---|---|`,
    ...summaries.map((s) => {
      const name = s.flags.length ? `\`${s.flags.join(" ")}\`` : "original (raw features)";
      const on = s.evaluatedOn === "all"
        ? `all ${s.rows.toLocaleString("en")} rows (also trained on)`
        : `${s.rows.toLocaleString("en")} held-out rows`;
      return `| ${name} | ${on} | ${cell(s.accuracy)} | ${cell(s.recall1)} | ${cell(s.recall0)} |`;
    }),
  ];
  return lines.join("\n") +
    `\n\nMean ± sample standard deviation over seeds 0..${seeds - 1}; ${
      summaries[0]?.setup ?? ""
    }, ${RNG_NAME}.\n`;
}

/** Where {@linkcode runSeedsCli} prints. */
export interface SeedsIO {
  /** A line of normal output (stdout). */
  log(line: string): void;
  /** A line of error output (stderr). */
  error(line: string): void;
}

const SEEDS_FLAGS = {
  data: { type: "string", default: DEFAULT_DATA },
  "no-header": { type: "boolean", default: false },
  label: { type: "string" },
  seeds: { type: "string", default: "10" },
  workers: { type: "string", default: "1" },
  out: { type: "string", default: "results" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/**
 * The whole CLI: parses `args`, runs both protocols over the seeds, prints the table and
 * writes seeds.md and seeds.json into `--out`. Returns the exit code: 0 done, 1 training or
 * I/O error, 2 bad flags or data.
 *
 * @example Flag errors name the flag and give exit code 2
 * ```ts
 * import { runSeedsCli } from "./seeds.ts";
 * import assert from "node:assert/strict";
 * const errors: string[] = [];
 * assert.equal(await runSeedsCli(["--seeds", "0"], { log() {}, error: (l) => errors.push(l) }), 2);
 * assert.match(errors[0], /--seeds must be a positive integer, got "0"/);
 * ```
 */
export async function runSeedsCli(args: readonly string[], io: SeedsIO = console): Promise<number> {
  let values, seeds, workers, label;
  try {
    values = parseFlags(args, SEEDS_FLAGS);
    if (values === "help") {
      io.log(USAGE);
      return 0;
    }
    seeds = parseIntegerFlag("seeds", values.seeds, { min: 1 });
    workers = parseWorkersFlag(values.workers);
    label = values.label === undefined ? undefined : parseLabelFlag(values.label);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.error(`error: ${e.message}\nRun with --help for the options.`);
    return 2;
  }
  io.log(`seeds.ts ${JSON.stringify(values)}`);
  let out;
  try {
    out = await openOutputs(values.out);
    if (!(await ensureDefaultData(values.data, io))) return 1;
    const data = await loadLabeledCsv(values.data, {
      header: !values["no-header"],
      ...(label === undefined ? {} : { label }),
      classes: EXPERIMENT_DEFAULTS.layers.at(-1)!, // a stray label is named with its line
    });
    const summaries = await runSeeds(data, { dataPath: values.data, seeds, workers });
    const table = seedsTable(summaries);
    const [md] = await out.replace([
      ["seeds.md", table],
      ["seeds.json", formatJson({ data: values.data, protocols: summaries })],
    ]);
    io.log(`\n${table}\nWrote ${md} and seeds.json`);
    return 0;
  } catch (e) {
    if (e instanceof OutputDirError) {
      io.error(`error: ${e.message}`);
      return 1;
    }
    // seeds has no --layers: a config that does not fit the data is the experiment's.
    const prefix = e instanceof ConfigError ? "the pulsar experiment's " : "";
    io.error(`error: ${prefix}${(e as Error).message}`);
    return e instanceof DataError || e instanceof ConfigError ? 2 : 1;
  } finally {
    out?.close();
  }
}

if (import.meta.main) Deno.exit(await runSeedsCli(Deno.args));
