// Fetch only what runs: the root tasks (train, data, seeds, test) may pull in papaparse, fflate and (tests) csv-parse
// from npm and nothing else. The benchmark's peers (TF.js, jax-js) and the WASM build tool (wabt)
// live under tests/bench/ and scripts/tools/, each with its own deno.json and deno.lock; if one of
// them reached the root deno.lock, every root task would download it (Deno installs the whole
// lock's npm snapshot: ~318 MB and a 9-line "Ignored build scripts" warning with TF.js).

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ROOT } from "./_helpers.ts";

/** The only npm packages the root tasks may fetch. */
// csv-parse is only the CSV tests' reference parser, but Deno installs the whole lock's npm
// snapshot, so a fresh cache gets it too.
const ALLOWED = new Set(["csv-parse", "fflate", "papaparse"]);
const TIMEOUT_MS = 60_000;

/** "csv-parse@7.0.3" or "@scope/name@1.0.0_peer@2" → the package name. */
const packageName = (key: string) => key.replace(/^npm:/, "").match(/^(@?[^@]+)/)![1];

/** Runs `deno ARGS` at the root with `env` added; returns its exit code and both outputs. */
async function deno(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** Sum of the file sizes under `dir`, in bytes. */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) total += await treeBytes(path);
    else if (entry.isFile) total += (await Deno.stat(path)).size;
  }
  return total;
}

Deno.test("the root deno.lock pins only csv-parse, fflate and papaparse", async () => {
  const lock = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.lock`));
  const names = [
    ...Object.keys(lock.specifiers ?? {}),
    ...Object.keys(lock.npm ?? {}),
    ...Object.keys(lock.jsr ?? {}),
    ...Object.keys(lock.remote ?? {}),
  ].map(packageName);
  const extra = [...new Set(names)].filter((name) => !ALLOWED.has(name));
  assert.deepEqual(extra, [], `deno.lock pins packages no root task uses: ${extra.join(", ")}`);
});

Deno.test("train, data, seeds and every test file import only csv-parse, fflate and papaparse", async () => {
  const tests = [...Deno.readDirSync(fileURLToPath(new URL(".", import.meta.url)))]
    .filter((e) => e.isFile && e.name.endsWith("_test.ts"))
    .map((e) => `tests/${e.name}`);
  const entries = ["mod.ts", "scripts/train.ts", "scripts/data.ts", "scripts/seeds.ts", ...tests];
  const found = await Promise.all(entries.map(async (entry) => {
    const { code, stdout, stderr } = await deno(["info", "--json", entry]);
    assert.equal(code, 0, `deno info ${entry} failed:\n${stderr}`);
    const info = JSON.parse(stdout);
    const npm = Object.keys(info.npmPackages ?? {}).map(packageName);
    // Other remote modules (https:, jsr:) would be fetched too.
    const remote = (info.modules as { specifier: string }[])
      .map((m) => m.specifier)
      .filter((s) => !s.startsWith("file:") && !s.startsWith("npm:") && !s.startsWith("node:"));
    return { entry, bad: [...npm.filter((n) => !ALLOWED.has(n)), ...remote] };
  }));
  const bad = found.filter((f) => f.bad.length > 0).map((f) => `${f.entry}: ${f.bad.join(", ")}`);
  assert.deepEqual(bad, [], "entries import packages outside csv-parse, fflate and papaparse");
});

Deno.test("a fresh Deno cache: train, data and seeds fetch only csv-parse, fflate and papaparse, no warning", async () => {
  const cache = await Deno.makeTempDir({ prefix: "denograd_deno_dir_" });
  try {
    for (const task of ["train", "data", "seeds"]) {
      const { code, stdout, stderr } = await deno(["task", task, "--help"], { DENO_DIR: cache });
      const output = stdout + stderr;
      // Without the npm registry the first run cannot fetch its packages: nothing to measure here.
      if (code !== 0 && /registry\.npmjs\.org|error sending request|dns/i.test(output)) {
        console.log(`skipped: the npm registry is not reachable (${task})`);
        return;
      }
      assert.equal(code, 0, `deno task ${task} --help failed:\n${output}`);
      assert.doesNotMatch(
        output,
        /Ignored build scripts|Warning/i,
        `deno task ${task}:\n${output}`,
      );
    }
    const registry = `${cache}/npm/registry.npmjs.org`;
    const fetched = [...Deno.readDirSync(registry)].map((e) => e.name).sort();
    assert.deepEqual(fetched, [...ALLOWED].sort(), "packages in a fresh cache");
    // They unpack to ~2.8 MB (csv-parse ships five builds); the tarballs fetched are ~0.6 MB.
    const bytes = await treeBytes(registry);
    assert.ok(bytes < 3_500_000, `the npm packages of a fresh cache take ${bytes} bytes`);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
