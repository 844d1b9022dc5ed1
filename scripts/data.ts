// CLI: download HTRU2 and write the balanced pulsar CSV the trainer reads.

import { exists } from "../lib/_fs.ts";
import { DataError, loadLabeledCsv } from "../lib/data/csv.ts";
import { ensurePulsarData, HTRU2_URL } from "../lib/data/htru2.ts";
import { parseFlags, parseIntegerFlag, UsageError } from "./_flags.ts";

/** The data file of the experiment; `deno task train` and `deno task seeds` fetch it if missing. */
export const DEFAULT_DATA = "data/pulsars_tuned.csv";

const USAGE = `Usage: deno run --allow-net=archive.ics.uci.edu --allow-read --allow-write \\
         scripts/data.ts [options]

Downloads HTRU2 from UCI, checks it, keeps every pulsar and as many randomly chosen
non-pulsars, and writes them as a CSV with a header. Does nothing if the file exists.

Options:
  --out PATH    where to write the CSV (default ${DEFAULT_DATA})
  --url URL     where to download the zip (default ${HTRU2_URL})
  --seed N      seed for choosing the non-pulsars (default 0)
  --force       download and rewrite even if the file exists
  -h, --help    show this help

Exit status: 0 the file is there, 1 download or data error, 2 bad flags.`;

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
 * @throws {UsageError} Naming the flag: an unknown flag, a missing value, a stray argument,
 * or a seed that is not an integer in decimal digits (the same rule as `train.ts`).
 *
 * @example
 * ```ts
 * import { parseDataArgs } from "./data.ts";
 * import assert from "node:assert/strict";
 * const config = parseDataArgs(["--seed", "7", "--force"]);
 * assert.ok(config !== "help" && config.seed === 7 && config.force);
 * assert.throws(() => parseDataArgs(["--seed", "1e3"]), /--seed must be an integer, got "1e3"/);
 * ```
 */
export function parseDataArgs(args: readonly string[]): DataConfig | "help" {
  const values = parseFlags(args, {
    out: { type: "string", default: DEFAULT_DATA },
    url: { type: "string", default: HTRU2_URL },
    seed: { type: "string", default: "0" },
    force: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  if (values === "help") return "help";
  const seed = parseIntegerFlag("seed", values.seed);
  return { out: values.out, url: values.url, seed, force: values.force };
}

/** Where {@linkcode ensureDefaultData} reports: normal lines and error lines. */
export interface DataIO {
  /** A line of normal output. */
  log(line: string): void;
  /** A line of error output. */
  error(line: string): void;
}

/**
 * The first step of the training scripts: when `path` is {@linkcode DEFAULT_DATA} and
 * missing, downloads HTRU2 from `options.url` (default UCI) and writes the balanced CSV
 * there, saying so on `io`. Any other path is left to the caller, whose read reports it.
 *
 * @returns `false` if the download failed, after printing the error and how to retry.
 *
 * @example A file given by the user is never downloaded
 * ```ts
 * import { ensureDefaultData } from "./data.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const io = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
 * assert.equal(await ensureDefaultData("my_data.csv", io), true);
 * assert.deepEqual(lines, []);
 * ```
 */
export async function ensureDefaultData(
  path: string,
  io: DataIO,
  options: { url?: string } = {},
): Promise<boolean> {
  if (path !== DEFAULT_DATA || await exists(path)) return true;
  const url = options.url ?? HTRU2_URL;
  io.log(`${path} is missing: downloading HTRU2 from ${url} (once)...`);
  try {
    await ensurePulsarData(path, { url });
  } catch (e) {
    io.error(`error: ${(e as Error).message}`);
    io.error("Run `deno task data` to retry the download, or pass --data PATH.");
    return false;
  }
  io.log(`Wrote ${path}`);
  return true;
}

async function main(): Promise<number> {
  let config: DataConfig | "help";
  try {
    config = parseDataArgs(Deno.args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n\n${USAGE}`);
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
