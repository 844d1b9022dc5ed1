// CLI: the pulsar experiment over many seeds, original protocol vs standardized with a held-out split.

import { parseArgs } from "node:util";
import { join } from "node:path";
import { writeFileAtomic } from "../lib/_fs.ts";
import { DataError, loadLabeledCsv } from "../lib/data/csv.ts";
import type { ClassificationMetrics } from "../lib/nn/metrics.ts";
import { DEFAULT_DATA, ensureDefaultData } from "./data.ts";
import { parseIntegerFlag } from "./_flags.ts";
import { formatJson, parseTrainArgs, RNG_NAME, runExperiment, type TrainConfig } from "./train.ts";

const USAGE = `Usage: deno task seeds [options]

Runs the pulsar experiment for seeds 0..N-1 under two protocols and writes a markdown table
(mean ± sample std) to DIR/seeds.md and the per-seed numbers to DIR/seeds.json:
  original      raw features, trained and evaluated on all rows (the published protocol)
  standardized  --standardize --test-fraction 0.2, evaluated on the held-out 20%

Options:
  --data PATH      the CSV (default ${DEFAULT_DATA}; downloaded when that file is missing)
  --seeds N        number of seeds (default 10)
  --workers auto|N threads per run (default 1)
  --out DIR        output directory (default results/)
  -h, --help       show this help`;

/** The two protocols compared: their extra `train.ts` flags and the rows they are judged on. */
export const PROTOCOLS = [
  { name: "original", flags: [], evaluatedOn: "all" },
  { name: "standardized", flags: ["--standardize", "--test-fraction", "0.2"], evaluatedOn: "test" },
] as const;

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
  runs: { seed: number; accuracy: number; recall0: number; recall1: number; seconds: number }[];
  /** Over the seeds. */
  accuracy: MeanStd;
  recall0: MeanStd;
  recall1: MeanStd;
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
 * const summary = await runSeeds(data, { seeds: 2, layers: "2,4,2", steps: 10 });
 * assert.deepEqual(summary.map((p) => p.runs.length), [2, 2]);
 * ```
 */
export async function runSeeds(
  data: Awaited<ReturnType<typeof loadLabeledCsv>>,
  options: { seeds?: number; workers?: string; layers?: string; steps?: number } = {},
): Promise<ProtocolSummary[]> {
  const seeds = options.seeds ?? 10;
  const summaries: ProtocolSummary[] = [];
  for (const protocol of PROTOCOLS) {
    const runs: ProtocolSummary["runs"] = [];
    let rows = 0, setup = "";
    for (let seed = 0; seed < seeds; seed++) {
      const args = [
        ...protocol.flags,
        ...["--seed", String(seed), "--workers", options.workers ?? "1"],
        ...(options.layers ? ["--layers", options.layers] : []),
        ...(options.steps ? ["--steps", String(options.steps), "--log-every", "1"] : []),
      ];
      const config = parseTrainArgs(args) as TrainConfig;
      setup = `${config.layers.join("-")} tanh MLP, lr ${config.lr}, batch ${config.batch}, ` +
        `${config.steps.toLocaleString("en")} steps`;
      const { metrics } = await runExperiment(config, { data });
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
    summaries.push({
      ...protocol,
      rows,
      setup,
      runs,
      accuracy: meanStd(runs.map((r) => r.accuracy)),
      recall0: meanStd(runs.map((r) => r.recall0)),
      recall1: meanStd(runs.map((r) => r.recall1)),
    });
  }
  return summaries;
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

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      strict: true,
      options: {
        data: { type: "string", default: DEFAULT_DATA },
        seeds: { type: "string", default: "10" },
        workers: { type: "string", default: "1" },
        out: { type: "string", default: "results" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
    parseIntegerFlag("seeds", values.seeds, { min: 1 });
    parseTrainArgs(["--workers", values.workers]); // same rules as train.ts
  } catch (e) {
    console.error(`error: ${(e as Error).message}\nRun with --help for the options.`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  console.log(`seeds.ts ${JSON.stringify(values)}`);
  try {
    if (!(await ensureDefaultData(values.data, console))) return 1;
    const data = await loadLabeledCsv(values.data);
    const summaries = await runSeeds(data, {
      seeds: Number(values.seeds),
      workers: values.workers,
    });
    const table = seedsTable(summaries);
    await writeFileAtomic(join(values.out, "seeds.md"), table);
    await writeFileAtomic(
      join(values.out, "seeds.json"),
      formatJson({ data: values.data, protocols: summaries }),
    );
    console.log(`\n${table}\nWrote ${join(values.out, "seeds.md")} and seeds.json`);
    return 0;
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return e instanceof DataError ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main());
