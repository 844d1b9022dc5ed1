// Test helpers: the experiment's data, temporary directories, subprocesses, local HTTP servers.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { strToU8, zipSync } from "npm:fflate@0.8.3";

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

// The experiment's file beside the repository first, then the copy .ci/run puts in data/.
const PULSAR_CANDIDATES = [
  new URL("../../shared/data/pulsars_tuned.csv", import.meta.url),
  new URL("../data/pulsars_tuned.csv", import.meta.url),
];

/**
 * The path of the experiment's exact data file. Tests that need it fail (never skip) when it is
 * missing, saying where they looked.
 */
export async function pulsarCsvPath(): Promise<string> {
  for (const url of PULSAR_CANDIDATES) {
    try {
      if ((await Deno.stat(url)).isFile) return fileURLToPath(url);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  throw new Error(
    `Missing test data: looked for ${
      PULSAR_CANDIDATES.map((u) => fileURLToPath(u)).join(" and ")
    }; ` +
      "run `deno task data` or copy ../shared/data/pulsars_tuned.csv to data/",
  );
}

/** A shared data file beside the repository (`../shared/data/NAME`), failing if it is missing. */
export async function sharedDataPath(name: string): Promise<string> {
  const path = fileURLToPath(new URL(`../../shared/data/${name}`, import.meta.url));
  try {
    await Deno.stat(path);
  } catch (e) {
    throw new Error(`Missing test data: looked for ${path} (${(e as Error).message})`);
  }
  return path;
}

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

/** The HTRU2 archive as UCI serves it: a zip holding `../shared/data/HTRU_2.csv`. */
export async function htru2Zip(): Promise<Uint8Array> {
  const csv = await Deno.readTextFile(await sharedDataPath("HTRU_2.csv"));
  return zipSync({ "HTRU_2.csv": strToU8(csv) });
}

/**
 * Runs `fn` against a local HTTP server on 127.0.0.1 (a free port) that answers every request
 * with `respond()`; `fn` gets the URL of `htru2.zip` there and a count of the requests so far.
 * The server is shut down afterwards.
 */
export async function withServer(
  respond: () => Response,
  fn: (url: string, requests: () => number) => Promise<void>,
): Promise<void> {
  let count = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => (count++, respond()),
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
