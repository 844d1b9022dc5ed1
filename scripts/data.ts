// CLI: download HTRU2 and write the balanced pulsar CSV the trainer reads.

import { parseArgs } from "node:util";
import { DataError, loadLabeledCsv } from "../lib/data/csv.ts";
import { ensurePulsarData, HTRU2_URL } from "../lib/data/htru2.ts";

const USAGE = `Usage: deno run --allow-net=archive.ics.uci.edu --allow-read --allow-write \\
         scripts/data.ts [options]

Downloads HTRU2 from UCI, checks it, keeps every pulsar and as many randomly chosen
non-pulsars, and writes them as a CSV with a header. Does nothing if the file exists.

Options:
  --out PATH    where to write the CSV (default data/pulsars_tuned.csv)
  --url URL     where to download the zip (default ${HTRU2_URL})
  --seed N      seed for choosing the non-pulsars (default 0)
  --force       download and rewrite even if the file exists
  -h, --help    show this help`;

/** The script's settings, parsed from the command line. */
export interface DataConfig {
  /** Output CSV path. */
  out: string;
  /** Zip URL. */
  url: string;
  /** Seed for the balancing draw. */
  seed: number;
  /** Rewrite an existing file. */
  force: boolean;
}

/**
 * Parses the flags; returns `"help"` for `--help`.
 *
 * @throws {TypeError} On an unknown flag, a missing value or a bad seed.
 *
 * @example
 * ```ts
 * import { parseDataArgs } from "./data.ts";
 * import assert from "node:assert/strict";
 * const config = parseDataArgs(["--seed", "7", "--force"]);
 * assert.ok(config !== "help" && config.seed === 7 && config.force);
 * ```
 */
export function parseDataArgs(args: string[]): DataConfig | "help" {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      out: { type: "string", default: "data/pulsars_tuned.csv" },
      url: { type: "string", default: HTRU2_URL },
      seed: { type: "string", default: "0" },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  if (positionals.length > 0) {
    throw new TypeError(`Unexpected argument "${positionals[0]}"`);
  }
  const seed = Number(values.seed);
  if (values.seed.trim() === "" || !Number.isSafeInteger(seed)) {
    throw new TypeError(`--seed must be an integer, got "${values.seed}"`);
  }
  return { out: values.out, url: values.url, seed, force: values.force };
}

async function main(): Promise<number> {
  let config: DataConfig | "help";
  try {
    config = parseDataArgs(Deno.args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (config === "help") {
    console.log(USAGE);
    return 0;
  }

  console.log(`data.ts ${JSON.stringify(config)}`);
  const encoder = new TextEncoder();
  const progress = Deno.stderr.isTerminal()
    ? (received: number, total: number | undefined) => {
      const of = total === undefined ? "" : ` of ${kib(total)}`;
      Deno.stderr.writeSync(encoder.encode(`\rDownloaded ${kib(received)}${of}   `));
    }
    : undefined;
  try {
    const downloaded = await ensurePulsarData(config.out, { ...config, onProgress: progress });
    if (progress) console.error();
    if (downloaded) {
      console.log(`Downloaded ${config.url} and wrote ${config.out} (seed ${config.seed})`);
    } else console.log(`${config.out} already exists; use --force to download it again`);
    const data = await loadLabeledCsv(config.out);
    const counts = data.classes.map((c) =>
      `${data.labels.filter((l) => l === c).length} of class ${c}`
    );
    console.log(`${data.X.rows} rows, ${data.X.cols} features, ${counts.join(", ")}`);
    return 0;
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    console.error(`error: ${e.message}`);
    return 1;
  }
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

if (import.meta.main) Deno.exit(await main());
