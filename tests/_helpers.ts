// Shared test helpers: where the experiment's data is, and temporary directories.

import { fileURLToPath } from "node:url";

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
