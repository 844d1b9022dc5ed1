// CLI: download HTRU2 and write the balanced pulsar CSV the trainer reads.

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { exists } from "../lib/_fs.ts";
import { DataError, loadLabeledCsv } from "../lib/data/csv.ts";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DownloadTimeoutError,
  ensurePulsarData,
  HTRU2_URL,
  IDLE_WINDOW_BYTES,
  type ProgressCallback,
} from "../lib/data/htru2.ts";
import { parseDecimalFlag, parseFlags, parseIntegerFlag, UsageError } from "./_flags.ts";

/** The data file of the experiment; `deno task train` and `deno task seeds` fetch it if missing. */
export const DEFAULT_DATA = "data/pulsars_tuned.csv";

/** Where the full, unbalanced HTRU2 is kept, beside {@linkcode DEFAULT_DATA}. */
export const DEFAULT_FULL_DATA = "data/HTRU_2.csv";

const USAGE = `Usage: deno task data [options]
  (that is: deno run --allow-net=archive.ics.uci.edu --allow-read --allow-write scripts/data.ts)

Downloads HTRU2 from UCI, checks it (17,898 rows, 9 columns, 1,639 pulsars), keeps the full
file, and writes every pulsar and as many randomly chosen non-pulsars as a CSV with a header.
Does nothing if both files exist. Progress goes to stderr.

Options:
  --out PATH               where to write the balanced CSV (default ${DEFAULT_DATA})
  --full-out PATH          where to keep the full HTRU_2.csv (default ${DEFAULT_FULL_DATA})
  --url URL                where to download the zip: an http:, https: or file: URL, or a
                           local path (default ${HTRU2_URL});
                           another host needs --allow-net for it
  --seed N                 seed for choosing the non-pulsars (default 0)
  --connect-timeout SECS   longest wait for the server's response (default ${
  DEFAULT_CONNECT_TIMEOUT_MS / 1000
})
  --idle-timeout SECS      fail when less than ${
  IDLE_WINDOW_BYTES / 1024
} KiB arrive in this time (default ${DEFAULT_IDLE_TIMEOUT_MS / 1000})
  --force                  download and rewrite even if the files exist
  -h, --help               show this help

Exit status: 0 the files are there, 1 download or data error, 2 bad flags.`;

/** The script's settings, parsed from the command line. */
export interface DataConfig {
  /** Output CSV path. */
  out: string;
  /** Where the full HTRU_2.csv is kept. */
  fullOut: string;
  /** Zip URL (a local path given to `--url` becomes a `file:` URL). */
  url: string;
  /** Seed for the balancing draw. */
  seed: number;
  /** Rewrite existing files. */
  force: boolean;
  /** Connect timeout in milliseconds. */
  connectTimeoutMs: number;
  /** Idle timeout in milliseconds. */
  idleTimeoutMs: number;
}

/**
 * Parses the flags; returns `"help"` for `--help`.
 *
 * @throws {UsageError} Naming the flag: an unknown flag, a missing value, a stray argument,
 * a seed that is not an integer in decimal digits (the same rule as `train.ts`), a URL that
 * is not http, https or file, or a timeout that is not a positive number of seconds.
 *
 * @example
 * ```ts
 * import { parseDataArgs } from "./data.ts";
 * import assert from "node:assert/strict";
 * const config = parseDataArgs(["--seed", "7", "--force", "--idle-timeout", "2.5"]);
 * assert.ok(config !== "help" && config.seed === 7 && config.force);
 * assert.equal(config.idleTimeoutMs, 2500);
 * assert.throws(() => parseDataArgs(["--seed", "1e3"]), /--seed must be an integer, got "1e3"/);
 * ```
 */
export function parseDataArgs(args: readonly string[]): DataConfig | "help" {
  const values = parseFlags(args, {
    out: { type: "string", default: DEFAULT_DATA },
    "full-out": { type: "string", default: DEFAULT_FULL_DATA },
    url: { type: "string", default: HTRU2_URL },
    seed: { type: "string", default: "0" },
    "connect-timeout": { type: "string", default: String(DEFAULT_CONNECT_TIMEOUT_MS / 1000) },
    "idle-timeout": { type: "string", default: String(DEFAULT_IDLE_TIMEOUT_MS / 1000) },
    force: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  if (values === "help") return "help";
  const seed = parseIntegerFlag("seed", values.seed);
  return {
    out: values.out,
    fullOut: values["full-out"],
    url: parseUrlFlag("url", values.url),
    seed,
    force: values.force,
    connectTimeoutMs: parseSecondsFlag("connect-timeout", values["connect-timeout"]),
    idleTimeoutMs: parseSecondsFlag("idle-timeout", values["idle-timeout"]),
  };
}

/** A positive number of seconds, in milliseconds. */
function parseSecondsFlag(flag: string, text: string): number {
  return parseDecimalFlag(flag, text, (x) => x > 0, "a positive number of seconds") * 1000;
}

/** An http, https or file URL as given, or a local path as a file URL. */
function parseUrlFlag(flag: string, text: string): string {
  const url = URL.parse(text);
  if (url && ["http:", "https:", "file:"].includes(url.protocol)) return text;
  if (url === null && text !== "") return pathToFileURL(resolve(text)).href;
  throw new UsageError(
    `--${flag} must be an http:, https: or file: URL or a local path, got "${text}"`,
  );
}

/**
 * A progress callback that writes a line at every further 10% of a download of known size,
 * or every `everyMs` (default 5 s) when the server gives no size: for logs and pipes, where
 * a carriage-return counter would be unreadable.
 *
 * @example
 * ```ts
 * import { progressLines } from "./data.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const progress = progressLines((l) => lines.push(l));
 * for (let n = 100; n <= 1000; n += 100) progress(n * 1024, 1000 * 1024);
 * assert.equal(lines.length, 10);
 * assert.equal(lines[9], "Downloaded 100% (1000 KiB of 1000 KiB)");
 * ```
 */
export function progressLines(
  write: (line: string) => void,
  options: { everyMs?: number } = {},
): ProgressCallback {
  const everyMs = options.everyMs ?? 5_000;
  let shown = 0; // tenths shown, for a known size
  let last = performance.now();
  return (received, total) => {
    if (total !== undefined && total > 0) {
      const tenths = Math.min(10, Math.floor((received / total) * 10));
      if (tenths > shown) {
        shown = tenths;
        write(`Downloaded ${tenths * 10}% (${kib(received)} of ${kib(total)})`);
      }
    } else if (performance.now() - last >= everyMs) {
      last = performance.now();
      write(`Downloaded ${kib(received)} so far`);
    }
  };
}

/** Where {@linkcode ensureDefaultData} reports: normal lines and error lines. */
export interface DataIO {
  /** A line of normal output. */
  log(line: string): void;
  /** A line of error output. */
  error(line: string): void;
}

/**
 * The command that retries the download from `url`: `deno task data`, with `--url` when the
 * URL is not UCI's, so a retry goes where the failed download went.
 *
 * @example
 * ```ts
 * import { retryCommand } from "./data.ts";
 * import assert from "node:assert/strict";
 * assert.equal(retryCommand("file:///tmp/htru2.zip"), "deno task data --url file:///tmp/htru2.zip");
 * ```
 */
export function retryCommand(url: string): string {
  return url === HTRU2_URL ? "deno task data" : `deno task data --url ${url}`;
}

/**
 * The first step of the training scripts: when `path` is {@linkcode DEFAULT_DATA} and
 * missing, downloads HTRU2 from `options.url` (default UCI), keeps the full file at
 * {@linkcode DEFAULT_FULL_DATA} and writes the balanced CSV, saying so (with progress lines)
 * on `io`. Any other path is left to the caller, whose read reports it.
 *
 * @returns `false` if the download failed, after printing the error and how to retry (with
 * the same URL, and after a timeout the `deno task data` flag that waits longer).
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
  options: { url?: string; connectTimeoutMs?: number; idleTimeoutMs?: number } = {},
): Promise<boolean> {
  if (path !== DEFAULT_DATA || await exists(path)) return true;
  const url = options.url ?? HTRU2_URL;
  io.log(`${path} is missing: downloading HTRU2 from ${url} (once)...`);
  try {
    await ensurePulsarData(path, {
      ...options,
      url,
      fullPath: await exists(DEFAULT_FULL_DATA) ? undefined : DEFAULT_FULL_DATA,
      onProgress: progressLines((line) => io.log(line)),
    });
  } catch (e) {
    io.error(`error: ${(e as Error).message}`);
    if (e instanceof DownloadTimeoutError) {
      // The training scripts take no timeout flags: deno task data has them.
      const ms = e.timeout === "connect"
        ? options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
        : options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
      io.error(
        `Run \`${retryCommand(url)} --${e.timeout}-timeout SECONDS\` to retry with a longer ` +
          `wait than ${ms / 1000} s, or pass --data PATH.`,
      );
    } else {
      io.error(`Run \`${retryCommand(url)}\` to retry the download, or pass --data PATH.`);
    }
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
  const tty = Deno.stderr.isTerminal();
  try {
    const downloaded = await ensurePulsarData(config.out, {
      ...config,
      fullPath: config.fullOut,
      onProgress: tty ? terminalProgress() : progressLines((line) => console.error(line)),
    });
    if (downloaded && tty) console.error();
    if (downloaded) {
      console.log(
        `Downloaded ${config.url}, kept ${config.fullOut} and wrote ${config.out} ` +
          `(seed ${config.seed})`,
      );
    } else {
      console.log(
        `${config.out} and ${config.fullOut} already exist; use --force to download again`,
      );
    }
    const data = await loadLabeledCsv(config.out);
    const counts = data.classes.map((c) =>
      `${data.labels.filter((l) => l === c).length} of class ${c}`
    );
    console.log(`${data.X.rows} rows, ${data.X.cols} features, ${counts.join(", ")}`);
    return 0;
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    if (tty) console.error();
    reportDataError(e, config);
    return 1;
  }
}

/** One counter on the terminal, rewritten in place as the download arrives. */
function terminalProgress(): ProgressCallback {
  const encoder = new TextEncoder();
  return (received, total) => {
    const of = total === undefined ? "" : ` of ${kib(total)}`;
    Deno.stderr.writeSync(encoder.encode(`\rDownloaded ${kib(received)}${of}   `));
  };
}

/** The error, the flag that waits longer after a timeout, and the command that retries. */
function reportDataError(e: DataError, config: DataConfig): void {
  console.error(`error: ${e.message}`);
  if (e instanceof DownloadTimeoutError) {
    const flag = `--${e.timeout}-timeout`;
    const ms = e.timeout === "connect" ? config.connectTimeoutMs : config.idleTimeoutMs;
    console.error(`To wait longer, pass ${flag} SECONDS (now ${ms / 1000}).`);
  }
  console.error(`Run \`${retryCommand(config.url)}\` to retry.`);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

if (import.meta.main) Deno.exit(await main());
