// The HTRU2 pulsar data: download, unzip, validate, balance the classes and save as a CSV.

import { Inflate, unzipSync } from "npm:fflate@0.8.3";
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

/**
 * The largest `HTRU_2.csv` (and the largest download) accepted: 64 MiB, against the real
 * file's 1.7 MB, so a zip bomb or an endless response ends with an error, not out of memory.
 *
 * @example
 * ```ts
 * import { HTRU2_MAX_BYTES } from "./htru2.ts";
 * import assert from "node:assert/strict";
 * assert.equal(HTRU2_MAX_BYTES, 64 * 1024 * 1024);
 * ```
 */
export const HTRU2_MAX_BYTES: number = 64 * 1024 * 1024;

/**
 * Default longest wait, in milliseconds, for a server's response headers: 30 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONNECT_TIMEOUT_MS } from "./htru2.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_CONNECT_TIMEOUT_MS, 30_000);
 * ```
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

/**
 * Default idle timeout, in milliseconds: a download fails when fewer than
 * {@linkcode IDLE_WINDOW_BYTES} arrive in 60 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_IDLE_TIMEOUT_MS } from "./htru2.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_IDLE_TIMEOUT_MS, 60_000);
 * ```
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/**
 * How many bytes must arrive within each idle timeout: 16 KiB. Counting bytes rather than
 * chunks catches a server that drips a byte a second as well as one that stops.
 *
 * @example
 * ```ts
 * import { IDLE_WINDOW_BYTES } from "./htru2.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IDLE_WINDOW_BYTES, 16_384);
 * ```
 */
export const IDLE_WINDOW_BYTES = 16 * 1024;

/** Called as a download proceeds; `total` is the announced size, if the server gave one. */
export type ProgressCallback = (received: number, total: number | undefined) => void;

/** Options for {@linkcode downloadBytes}. */
export interface DownloadOptions {
  /** Reports bytes downloaded so far. */
  onProgress?: ProgressCallback;
  /**
   * Longest wait for the response headers (connecting included), in milliseconds.
   * Default {@linkcode DEFAULT_CONNECT_TIMEOUT_MS}.
   */
  connectTimeoutMs?: number;
  /**
   * Longest wait, in milliseconds, for each further {@linkcode IDLE_WINDOW_BYTES} of the body
   * (or its end). Default {@linkcode DEFAULT_IDLE_TIMEOUT_MS}.
   */
  idleTimeoutMs?: number;
  /** The largest body accepted, in bytes. Default {@linkcode HTRU2_MAX_BYTES}. */
  maxBytes?: number;
}

/**
 * A download that waited longer than its connect or idle timeout. `timeout` says which, so a
 * command line can name the flag that changes it.
 *
 * @example
 * ```ts
 * import { DownloadTimeoutError } from "./htru2.ts";
 * import assert from "node:assert/strict";
 * const e = new DownloadTimeoutError("Download of x stalled", "idle");
 * assert.equal(e.timeout, "idle");
 * assert.equal(e.name, "DownloadTimeoutError");
 * ```
 */
export class DownloadTimeoutError extends DataError {
  /** Which timeout ran out. */
  readonly timeout: "connect" | "idle";
  /**
   * Creates the error.
   *
   * @example
   * ```ts
   * import { DownloadTimeoutError } from "./htru2.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new DownloadTimeoutError("waited 30 s", "connect").timeout, "connect");
   * ```
   */
  constructor(message: string, timeout: "connect" | "idle", options?: ErrorOptions) {
    super(message, options);
    this.name = "DownloadTimeoutError";
    this.timeout = timeout;
  }
}

/** Options for {@linkcode ensurePulsarData}. */
export interface EnsurePulsarDataOptions extends DownloadOptions {
  /** Where to download the zip from. Default {@linkcode HTRU2_URL}. */
  url?: string;
  /** Seed for choosing the non-pulsars kept. Default 0. */
  seed?: number;
  /** Download and rewrite the files even if they exist. */
  force?: boolean;
  /**
   * Where to keep the full, unbalanced `HTRU_2.csv` as downloaded (after the same checks),
   * written before the balanced file. Default: not kept.
   */
  fullPath?: string | URL;
}

/**
 * Makes sure the balanced pulsar CSV exists at `path` (and the full HTRU2 at
 * `options.fullPath`, when given): when one is missing (or `force` is set), downloads HTRU2,
 * checks it, balances it with {@linkcode balanceHtru2} and writes the files atomically, so a
 * failed run never leaves a partial or temporary file behind. One download serves both.
 *
 * @returns Whether it downloaded (false when the files were already there).
 * @throws {DataError} If the download fails or times out ({@linkcode DownloadTimeoutError}),
 * or its contents are not the expected HTRU2.
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
  const { fullPath } = options;
  if (
    !options.force && await exists(path) && (fullPath === undefined || await exists(fullPath))
  ) return false;
  const url = options.url ?? HTRU2_URL;
  const zip = await downloadBytes(url, options);
  const text = extractHtru2Csv(zip, url, { maxBytes: options.maxBytes });
  const csv = balanceHtru2(text, { seed: options.seed, source: `HTRU_2.csv in ${url}` });
  if (fullPath !== undefined) await writeFileAtomic(fullPath, text);
  await writeFileAtomic(path, csv);
  return true;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * Fetches `url` into memory, reporting progress, with a connect timeout (for the response
 * headers), an idle timeout (for each further {@linkcode IDLE_WINDOW_BYTES}) and a size limit.
 *
 * @throws {DataError} Naming the URL, if the request fails, the status is not 2xx or the body
 * is larger than `maxBytes`; a {@linkcode DownloadTimeoutError} saying how long it waited.
 *
 * @example
 * ```ts
 * import { downloadBytes } from "./htru2.ts";
 * import assert from "node:assert/strict";
 * const bytes = await downloadBytes("data:,hello", { idleTimeoutMs: 5_000 });
 * assert.equal(new TextDecoder().decode(bytes), "hello");
 * ```
 */
export async function downloadBytes(
  url: string,
  options: DownloadOptions = {},
): Promise<Uint8Array> {
  const connectMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const watchdog = new Watchdog();
  try {
    watchdog.arm(connectMs, () =>
      new DownloadTimeoutError(
        `Download of ${url} failed: no response within ${seconds(connectMs)} (the connect ` +
          "timeout); check the URL and the connection, or allow a longer connect timeout",
        "connect",
      ));
    const response = await fetch(url, { signal: watchdog.controller.signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new DataError(
        `Download of ${url} failed: HTTP ${response.status} ${response.statusText}`.trim(),
      );
    }
    return await readBody(response, url, watchdog, options);
  } catch (e) {
    if (watchdog.timedOut) throw watchdog.timedOut;
    if (e instanceof DataError) throw e;
    throw new DataError(`Download of ${url} failed: ${(e as Error).message}`, { cause: e });
  } finally {
    watchdog.stop();
  }
}

/** A download's one timer: when it runs out, it aborts the fetch with the error it holds. */
class Watchdog {
  readonly controller = new AbortController();
  /** The timeout that aborted the download, if one did. */
  timedOut: DownloadTimeoutError | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** (Re)starts the timer: after `ms` milliseconds it aborts with the error `fail()` makes. */
  arm(ms: number, fail: () => DownloadTimeoutError): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.controller.abort(this.timedOut = fail()), ms);
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * The body of `response`, refused beyond `maxBytes` (announced or received), with the idle
 * timeout re-armed for every {@linkcode IDLE_WINDOW_BYTES} that arrive.
 */
async function readBody(
  response: Response,
  url: string,
  watchdog: Watchdog,
  options: DownloadOptions,
): Promise<Uint8Array> {
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? HTRU2_MAX_BYTES;
  const length = Number(response.headers.get("content-length") ?? NaN);
  const total = Number.isFinite(length) ? length : undefined;
  const tooLarge = (size: string) =>
    new DataError(
      `Download of ${url} failed: ${size} is more than the limit of ` +
        `${maxBytes.toLocaleString("en")} bytes; check the URL (HTRU2's zip is ~1 MB)`,
    );
  if (total !== undefined && total > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(`the announced size (${total.toLocaleString("en")} bytes)`);
  }
  let received = 0, window = 0;
  const idle = () =>
    watchdog.arm(idleMs, () =>
      new DownloadTimeoutError(
        `Download of ${url} stalled: less than ${IDLE_WINDOW_BYTES / 1024} KiB arrived in ` +
          `${seconds(idleMs)} (the idle timeout), after ${received.toLocaleString("en")} bytes; ` +
          "check the connection or the server, or allow a longer idle timeout",
        "idle",
      ));
  idle();
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body ?? []) {
    chunks.push(chunk);
    received += chunk.length;
    if (received > maxBytes) {
      watchdog.controller.abort();
      throw tooLarge("the body");
    }
    window += chunk.length;
    if (window >= IDLE_WINDOW_BYTES) (window = 0, idle());
    options.onProgress?.(received, total);
  }
  return concat(chunks, received);
}

/** Options for {@linkcode extractHtru2Csv}. */
export interface ExtractOptions {
  /** The largest member accepted, declared or inflated. Default {@linkcode HTRU2_MAX_BYTES}. */
  maxBytes?: number;
}

/**
 * The text of the `HTRU_2.csv` member of a zip archive. The member's size is checked against
 * `maxBytes` before inflating (as the archive declares it) and while inflating (as it really
 * is), so a zip bomb fails quickly with an error instead of exhausting memory.
 *
 * @param source Names the archive in error messages (e.g. its URL).
 * @throws {DataError} If the archive is truncated or not a zip, has no `HTRU_2.csv`, or that
 * member is too large or not UTF-8 text.
 *
 * @example
 * ```ts
 * import { extractHtru2Csv } from "./htru2.ts";
 * import { strToU8, zipSync } from "npm:fflate@0.8.3";
 * import assert from "node:assert/strict";
 * const zip = zipSync({ "HTRU_2.csv": strToU8("1,2,3\n") });
 * assert.equal(extractHtru2Csv(zip, "test.zip"), "1,2,3\n");
 * assert.throws(() => extractHtru2Csv(zip, "test.zip", { maxBytes: 4 }), /more than the limit/);
 * ```
 */
export function extractHtru2Csv(
  zip: Uint8Array,
  source: string,
  options: ExtractOptions = {},
): string {
  const maxBytes = options.maxBytes ?? HTRU2_MAX_BYTES;
  const names: string[] = [];
  try {
    // Reads the central directory only (nothing is inflated): checks the archive's structure.
    unzipSync(zip, { filter: (file) => (names.push(file.name), false) });
  } catch (e) {
    throw new DataError(
      `${source}: not a valid zip archive (${(e as Error).message}); the download may be ` +
        `truncated, or the server sent something else, such as an HTML page`,
      { cause: e },
    );
  }
  const member = findMember(zip, (name) => basename(name) === "HTRU_2.csv");
  if (member === undefined) {
    throw new DataError(
      `${source}: the archive has no HTRU_2.csv; it holds ${names.join(", ") || "no files"}`,
    );
  }
  const limit = `the limit of ${maxBytes.toLocaleString("en")} bytes (HTRU_2.csv is ~1.7 MB)`;
  if (member.declaredSize > maxBytes) {
    throw new DataError(
      `${source}: ${member.name} declares ${member.declaredSize.toLocaleString("en")} bytes, ` +
        `more than ${limit}; this is not the HTRU2 archive`,
    );
  }
  const bytes = inflateMember(zip, member, maxBytes, () =>
    new DataError(
      `${source}: ${member.name} inflates to more than ${limit}, although it declares ` +
        `${member.declaredSize.toLocaleString("en")} bytes; this is not the HTRU2 archive`,
    ), source);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    throw new DataError(`${source}: ${member.name} is not UTF-8 text`, { cause: e });
  }
}

interface ZipMember {
  name: string;
  method: number;
  compressedSize: number;
  declaredSize: number;
  dataStart: number;
}

// The first central-directory entry whose name matches, with where its data starts. Called
// after unzipSync has accepted the archive. A ZIP64 size (0xFFFFFFFF) reads as 4 GiB: too large.
function findMember(zip: Uint8Array, match: (name: string) => boolean): ZipMember | undefined {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) return undefined;
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  for (let i = 0; i < count && view.getUint32(at, true) === 0x02014b50; i++) {
    const nameLength = view.getUint16(at + 28, true);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength));
    if (match(name)) {
      const local = view.getUint32(at + 42, true);
      return {
        name,
        method: view.getUint16(at + 10, true),
        compressedSize: view.getUint32(at + 20, true),
        declaredSize: view.getUint32(at + 24, true),
        dataStart: local + 30 + view.getUint16(local + 26, true) +
          view.getUint16(local + 28, true),
      };
    }
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return undefined;
}

// Inflates in small input steps (deflate expands at most ~1,032x, so 8 KiB of input gives at
// most ~8 MiB of output) and stops as soon as the output passes maxBytes.
function inflateMember(
  zip: Uint8Array,
  member: ZipMember,
  maxBytes: number,
  tooLarge: () => DataError,
  source: string,
): Uint8Array {
  const data = zip.subarray(member.dataStart, member.dataStart + member.compressedSize);
  if (member.method === 0) {
    if (data.length > maxBytes) throw tooLarge();
    return data;
  }
  if (member.method !== 8) {
    throw new DataError(
      `${source}: ${member.name} uses compression method ${member.method}; only stored (0) ` +
        "and deflate (8) are supported",
    );
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const inflater = new Inflate((chunk) => {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  });
  const STEP = 8192;
  try {
    for (let at = 0; at < data.length || at === 0; at += STEP) {
      inflater.push(data.subarray(at, at + STEP), at + STEP >= data.length);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(
      `${source}: ${member.name} is corrupt (${(e as Error).message}); download it again`,
      { cause: e },
    );
  }
  return concat(chunks, size);
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) (out.set(chunk, offset), offset += chunk.length);
  return out;
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
