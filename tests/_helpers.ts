// Test helpers: the experiment's data, temporary directories, subprocesses, local HTTP servers.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { strToU8, zipSync } from "npm:fflate@0.8.3";
import { createRng, sampleWithoutReplacement } from "../lib/random.ts";
import type { TrainIO } from "../scripts/train.ts";

/** The repository root, where deno.json is. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** How long a subprocess may run before {@linkcode runDeno} kills it and fails. */
export const TIMEOUT_MS = 120_000;

/** What a finished subprocess returned. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno ARGS` in `cwd` (default the root) without colours or stdin, killing it and
 * failing after {@linkcode TIMEOUT_MS}.
 */
export async function runDeno(args: string[], cwd = ROOT): Promise<RunResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args,
      cwd,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    assert.ok(!controller.signal.aborted, `deno ${args.join(" ")} took over ${TIMEOUT_MS} ms`);
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** Where the real data may be, in the order tests look: this project's CI, then the user's. */
const REAL_DATA_DIRS = [
  new URL("../../shared/data/", import.meta.url),
  new URL("../data/", import.meta.url),
];

/** A real data file that was found: its path, and whether it is the shared (CI) copy. */
export interface RealData {
  /** Absolute path of the file. */
  path: string;
  /**
   * True for `../shared/data/NAME`, the experiment's exact file: only then may a test pin
   * exact bytes or hashes. A user's `data/` copy (full precision, this project's balancing)
   * has other bits; tests on it assert properties.
   */
  shared: boolean;
}

/**
 * The real file `name` (`pulsars_tuned.csv` or `HTRU_2.csv`): `../shared/data/NAME` when
 * present, else `data/NAME` as `deno task data` (or the first `deno task train`) writes it;
 * `undefined` if neither exists.
 */
export function findRealData(name: string): RealData | undefined {
  for (const [i, dir] of REAL_DATA_DIRS.entries()) {
    const url = new URL(name, dir);
    try {
      if (Deno.statSync(url).isFile) return { path: fileURLToPath(url), shared: i === 0 };
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return undefined;
}

/** The experiment's balanced pulsar file, found once per test module. */
export const PULSAR_DATA: RealData | undefined = findRealData("pulsars_tuned.csv");

/** The full, unbalanced UCI HTRU_2.csv (17,898 rows, no header), if found. */
export const FULL_DATA: RealData | undefined = findRealData("HTRU_2.csv");

/** Why tests needing the files `names` are ignored, with the command that fixes it. */
function missingDataMessage(names: string[]): string {
  const looked = names.flatMap((name) =>
    REAL_DATA_DIRS.map((d) => fileURLToPath(new URL(name, d)))
  );
  return "No pulsar data: the tests that need it are ignored (see the count of ignored tests " +
    "below). Run `deno task data` once to download HTRU2 (about 1 MB); it writes " +
    `data/pulsars_tuned.csv and data/HTRU_2.csv. Then run the tests again. Looked for ${
      looked.join(", ")
    }.`;
}

const MISSING_DATA_MESSAGE = missingDataMessage(["pulsars_tuned.csv"]);

/**
 * Prints `message` once per test run (`name` names its marker file). Each test module runs in
 * its own isolate, so "once per run" needs state outside them: one file in the temp directory
 * holding the id of the test process that last said it.
 */
function warnOncePerRun(name: string, message: string): void {
  const probe = Deno.makeTempFileSync();
  Deno.removeSync(probe);
  const marker = join(dirname(probe), `denograd_tests_no_${name}.pid`);
  const said = (() => {
    try {
      return Deno.readTextFileSync(marker);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return "";
      throw e;
    }
  })();
  if (said !== String(Deno.pid)) {
    Deno.writeTextFileSync(marker, String(Deno.pid));
    console.warn(message);
  }
}

// One message per run for whatever real data is missing, the balanced file or the full one.
const MISSING_FILES = [
  ...(PULSAR_DATA === undefined ? ["pulsars_tuned.csv"] : []),
  ...(FULL_DATA === undefined ? ["HTRU_2.csv"] : []),
];
if (MISSING_FILES.length > 0) warnOncePerRun("data", missingDataMessage(MISSING_FILES));

/**
 * The path of the experiment's balanced pulsar file ({@linkcode PULSAR_DATA}). Call it only
 * from tests registered with {@linkcode needsPulsarData}, which are ignored when it is missing.
 */
export function pulsarCsvPath(): Promise<string> {
  if (PULSAR_DATA === undefined) return Promise.reject(new Error(MISSING_DATA_MESSAGE));
  return Promise.resolve(PULSAR_DATA.path);
}

/**
 * Registers tests that need the real pulsar data: `needsPulsarData.test(name, fn)` is
 * `Deno.test(name, fn)`, ignored (and counted as such) when neither
 * `../shared/data/pulsars_tuned.csv` nor `data/pulsars_tuned.csv` exists; the run then says
 * why once, with the command that fixes it.
 */
export const needsPulsarData = {
  /** `Deno.test(name, fn)`, ignored without the data. */
  test(name: string, fn: (t: Deno.TestContext) => void | Promise<void>): void {
    Deno.test(name, { ignore: PULSAR_DATA === undefined }, fn);
  },
};

/**
 * Registers tests that need the full HTRU_2.csv, as {@linkcode needsPulsarData}: ignored
 * (and said once per run, naming `deno task data`) when neither `../shared/data/HTRU_2.csv`
 * nor `data/HTRU_2.csv` exists. The test gets the file's path.
 */
export const needsFullData = {
  /** `Deno.test(name, fn)`, ignored without the data. */
  test(name: string, fn: (path: string, t: Deno.TestContext) => void | Promise<void>): void {
    Deno.test(name, { ignore: FULL_DATA === undefined }, (t) => fn(FULL_DATA!.path, t));
  },
};

/** Runs `fn` with a temporary directory that is removed afterwards. */
export async function withTempDir<T>(
  prefix: string,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The shape of the real HTRU2: rows, columns (8 features and the label) and pulsars. */
export const HTRU2_SHAPE = { rows: 17_898, cols: 9, pulsars: 1_639 } as const;

let fakeCsv: string | undefined;

/**
 * A stand-in for `HTRU_2.csv` with the real file's shape ({@linkcode HTRU2_SHAPE}: no header,
 * 17,898 rows of 8 numbers and a 0/1 label, 1,639 pulsars at seeded positions), generated
 * deterministically so the download, unzip, validation and balancing tests need no real data.
 * Pulsar rows are shifted so a network can learn them. Numbers have 1 to 8 decimals, as in
 * the real file.
 */
export function htru2LikeCsv(): string {
  if (fakeCsv !== undefined) return fakeCsv;
  const rng = createRng(2016);
  const pulsars = new Set(sampleWithoutReplacement(rng, HTRU2_SHAPE.rows, HTRU2_SHAPE.pulsars));
  const lines: string[] = [];
  for (let i = 0; i < HTRU2_SHAPE.rows; i++) {
    const label = pulsars.has(i) ? 1 : 0;
    const cells: string[] = [];
    for (let j = 0; j < HTRU2_SHAPE.cols - 1; j++) {
      const value = (rng.next() - 0.5) * 10 ** (1 + (j % 3)) + label * 40 * (j + 1);
      cells.push(value.toFixed(1 + Math.floor(rng.next() * 8)));
    }
    lines.push(`${cells.join(",")},${label}`);
  }
  return fakeCsv = lines.join("\n") + "\n";
}

let fakeZip: Uint8Array | undefined;

/** The archive as UCI serves it, holding {@linkcode htru2LikeCsv} as `HTRU_2.csv`. */
export function htru2Zip(): Uint8Array {
  return fakeZip ??= zipSync({ "HTRU_2.csv": strToU8(htru2LikeCsv()) });
}

/**
 * Runs `fn` against a local HTTP server on 127.0.0.1 (a free port) that answers every request
 * with `respond(request)`; `fn` gets the URL of `htru2.zip` there and a count of the requests
 * so far. The server is shut down afterwards. A handler that stalls should end when
 * `request.signal` aborts (the client went away), so the shutdown does not wait for it.
 */
export async function withServer(
  respond: (request: Request) => Response | Promise<Response>,
  fn: (url: string, requests: () => number) => Promise<void>,
): Promise<void> {
  let count = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => (count++, respond(request)),
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/htru2.zip`, () => count);
  } finally {
    await server.shutdown();
  }
}

/** A 200 response carrying `bytes` as a zip (copied, so each response has its own body). */
export function zipResponse(bytes: Uint8Array): Response {
  return new Response(new Uint8Array(bytes), { headers: { "content-type": "application/zip" } });
}

/** An IO sink for the CLIs' run functions that records what they print. */
export function capture(): TrainIO & { out: string[]; err: string[] } {
  const out: string[] = [], err: string[] = [];
  return { out, err, log: (line) => out.push(line), error: (line) => err.push(line) };
}

/** The names in `dir`, sorted; none when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}
