// The HTRU2 pulsar data: download, unzip, validate, balance the classes and save as a CSV.

import { unzipSync } from "npm:fflate@0.8.3";
import { basename } from "node:path";
import { exists, writeFileAtomic } from "../_fs.ts";
import { createRng, sampleWithoutReplacement } from "../random.ts";
import { DataError, parseLabeledCsv } from "./csv.ts";

/**
 * Where UCI publishes HTRU2 (a zip holding `HTRU_2.csv`).
 *
 * @example
 * ```ts
 * import { HTRU2_URL } from "./htru2.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new URL(HTRU2_URL).hostname, "archive.ics.uci.edu");
 * ```
 */
export const HTRU2_URL = "https://archive.ics.uci.edu/static/public/372/htru2.zip";

/**
 * The column names of the balanced CSV: 4 statistics of the integrated pulse profile (ip),
 * 4 of the DM-SNR curve (dmsnr), then the label (1 = pulsar).
 *
 * @example
 * ```ts
 * import { PULSAR_COLUMNS } from "./htru2.ts";
 * import assert from "node:assert/strict";
 * assert.equal(PULSAR_COLUMNS.length, 9);
 * assert.equal(PULSAR_COLUMNS.at(-1), "label");
 * ```
 */
export const PULSAR_COLUMNS: readonly string[] = [
  "ip_mean",
  "ip_std",
  "ip_kurtosis",
  "ip_skewness",
  "dmsnr_mean",
  "dmsnr_std",
  "dmsnr_kurtosis",
  "dmsnr_skewness",
  "label",
];

const HTRU2_ROWS = 17_898;
const HTRU2_PULSARS = 1_639;

/** Called as a download proceeds; `total` is the announced size, if the server gave one. */
export type ProgressCallback = (received: number, total: number | undefined) => void;

/** Options for {@linkcode ensurePulsarData}. */
export interface EnsurePulsarDataOptions {
  /** Where to download the zip from. Default {@linkcode HTRU2_URL}. */
  url?: string;
  /** Seed for choosing the non-pulsars kept. Default 0. */
  seed?: number;
  /** Download and rewrite the file even if it exists. */
  force?: boolean;
  /** Reports bytes downloaded so far. */
  onProgress?: ProgressCallback;
}

/**
 * Makes sure the balanced pulsar CSV exists at `path`: when it is missing (or `force` is
 * set), downloads HTRU2, checks it, balances it with {@linkcode balanceHtru2} and writes the
 * file atomically, so a failed run never leaves a partial or temporary file behind.
 *
 * @returns Whether it downloaded (false when the file was already there).
 * @throws {DataError} If the download fails or its contents are not the expected HTRU2.
 *
 * @example An existing file is left alone
 * ```ts
 * import { ensurePulsarData } from "./htru2.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * assert.equal(await ensurePulsarData(path), false);
 * await Deno.remove(path);
 * ```
 */
export async function ensurePulsarData(
  path: string | URL,
  options: EnsurePulsarDataOptions = {},
): Promise<boolean> {
  if (!options.force && await exists(path)) return false;
  const url = options.url ?? HTRU2_URL;
  const zip = await downloadBytes(url, options.onProgress);
  const text = extractHtru2Csv(zip, url);
  const csv = balanceHtru2(text, { seed: options.seed, source: `HTRU_2.csv in ${url}` });
  await writeFileAtomic(path, csv);
  return true;
}

/**
 * Fetches `url` into memory, reporting progress.
 *
 * @throws {DataError} Naming the URL, if the request fails or the status is not 2xx.
 *
 * @example
 * ```ts
 * import { downloadBytes } from "./htru2.ts";
 * import assert from "node:assert/strict";
 * const bytes = await downloadBytes("data:,hello");
 * assert.equal(new TextDecoder().decode(bytes), "hello");
 * ```
 */
export async function downloadBytes(
  url: string,
  onProgress?: ProgressCallback,
): Promise<Uint8Array> {
  try {
    const response = await fetch(url);
    if (!response.ok) {
      await response.body?.cancel();
      throw new DataError(
        `Download of ${url} failed: HTTP ${response.status} ${response.statusText}`.trim(),
      );
    }
    const length = Number(response.headers.get("content-length") ?? NaN);
    const total = Number.isFinite(length) ? length : undefined;
    const chunks: Uint8Array[] = [];
    let received = 0;
    for await (const chunk of response.body ?? []) {
      chunks.push(chunk);
      received += chunk.length;
      onProgress?.(received, total);
    }
    const bytes = new Uint8Array(received);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`Download of ${url} failed: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The text of the `HTRU_2.csv` member of a zip archive.
 *
 * @param source Names the archive in error messages (e.g. its URL).
 * @throws {DataError} If the archive is truncated or not a zip, or has no `HTRU_2.csv`.
 *
 * @example
 * ```ts
 * import { extractHtru2Csv } from "./htru2.ts";
 * import { strToU8, zipSync } from "npm:fflate@0.8.3";
 * import assert from "node:assert/strict";
 * const zip = zipSync({ "HTRU_2.csv": strToU8("1,2,3\n") });
 * assert.equal(extractHtru2Csv(zip, "test.zip"), "1,2,3\n");
 * ```
 */
export function extractHtru2Csv(zip: Uint8Array, source: string): string {
  const names: string[] = [];
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (file) => (names.push(file.name), basename(file.name) === "HTRU_2.csv"),
    });
  } catch (e) {
    throw new DataError(
      `${source}: not a valid zip archive (${(e as Error).message}); the download may be ` +
        `truncated, or the server sent something else, such as an HTML page`,
      { cause: e },
    );
  }
  const member = Object.keys(files)[0];
  if (member === undefined) {
    throw new DataError(
      `${source}: the archive has no HTRU_2.csv; it holds ${names.join(", ") || "no files"}`,
    );
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(files[member]);
  } catch (e) {
    throw new DataError(`${source}: ${member} is not UTF-8 text`, { cause: e });
  }
}

/**
 * Checks the text of `HTRU_2.csv` (no header; 17,898 rows of 8 features and a 0/1 label,
 * 1,639 of them pulsars; all numbers finite) and returns a balanced CSV: every pulsar plus
 * 1,639 non-pulsars drawn by {@linkcode sampleWithoutReplacement} with
 * {@linkcode createRng}(`seed`), under the {@linkcode PULSAR_COLUMNS} header. Rows keep their
 * order in the original file. Numbers are written in JavaScript's shortest round-trip form,
 * so each row equals its source row.
 *
 * @throws {DataError} Saying what differs from the expected file.
 *
 * @example Validation names what is wrong
 * ```ts
 * import { balanceHtru2 } from "./htru2.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => balanceHtru2("1,2,3,4,5,6,7,8,0\n1,2,3,4,5,6,7,8,1\n", { source: "HTRU_2.csv" }),
 *   /HTRU_2.csv: expected 17,898 rows, found 2/,
 * );
 * ```
 */
export function balanceHtru2(
  text: string,
  options: { seed?: number; source?: string } = {},
): string {
  const source = options.source ?? "HTRU_2.csv";
  const { X, labels, classes } = parseLabeledCsv(text, { header: PULSAR_COLUMNS, source });
  if (X.rows !== HTRU2_ROWS) {
    throw new DataError(
      `${source}: expected ${HTRU2_ROWS.toLocaleString("en")} rows, found ${X.rows}`,
    );
  }
  if (classes.length !== 2 || classes[0] !== 0 || classes[1] !== 1) {
    throw new DataError(`${source}: labels must be 0 or 1, found ${classes.join(", ")}`);
  }
  const negatives: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] === 0) negatives.push(i);
  const positives = labels.length - negatives.length;
  if (positives !== HTRU2_PULSARS) {
    throw new DataError(
      `${source}: expected ${HTRU2_PULSARS.toLocaleString("en")} pulsars (label 1), ` +
        `found ${positives}`,
    );
  }

  const rng = createRng(options.seed ?? 0);
  const keep = Uint8Array.from(labels); // every pulsar
  for (const k of sampleWithoutReplacement(rng, negatives.length, positives)) {
    keep[negatives[k]] = 1;
  }

  const lines = [PULSAR_COLUMNS.join(",")];
  for (let i = 0; i < X.rows; i++) {
    if (!keep[i]) continue;
    const row = X.data.subarray(i * X.cols, (i + 1) * X.cols);
    lines.push(`${row.join(",")},${labels[i]}`);
  }
  return lines.join("\n") + "\n";
}
