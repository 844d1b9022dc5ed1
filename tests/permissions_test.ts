// Runs the scripts with exactly the permission flags of their deno.json tasks.

import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "../lib/_fs.ts";
import { needsPulsarData, pulsarCsvPath, ROOT, runDeno } from "./_helpers.ts";

const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
const tasks: Record<string, string> = config.tasks;

/** A task's `deno run` flags and script, e.g. `["--allow-read", ...]` and `"scripts/data.ts"`. */
function runTask(name: string): { flags: string[]; script: string } {
  const tokens = tasks[name].trim().split(/\s+/);
  assert.deepEqual(tokens.slice(0, 2), ["deno", "run"], `task ${name} is not "deno run ..."`);
  const script = tokens.at(-1)!;
  assert.match(script, /^scripts\/\w+\.ts$/, `task ${name} does not end with its script`);
  const flags = tokens.slice(2, -1);
  assert.ok(flags.every((f) => f.startsWith("-")), `task ${name} has arguments, not flags`);
  return { flags, script };
}

/**
 * Runs a task's script with the task's flags (as `deno task` would, from the root), less any
 * flag starting with `withhold`.
 */
async function run(name: string, args: string[], withhold?: string) {
  const { script, ...task } = runTask(name);
  const flags = task.flags.filter((f) => withhold === undefined || !f.startsWith(withhold));
  return await runDeno(["run", ...flags, script, ...args]);
}

Deno.test("the script tasks grant no subprocesses, FFI, environment or other hosts", () => {
  const scriptTasks = Object.keys(tasks).filter((name) => tasks[name].startsWith("deno run "));
  assert.ok(scriptTasks.includes("data"));
  for (const name of scriptTasks) {
    const { flags } = runTask(name);
    for (const f of flags) {
      assert.doesNotMatch(f, /^(-A|--allow-all|--allow-(run|ffi|env|sys)\b)/, `${name}: ${f}`);
      // The only host a script may reach is the one the data comes from.
      if (f.startsWith("--allow-net")) assert.equal(f, "--allow-net=archive.ics.uci.edu", name);
    }
  }
});

Deno.test("the data task's flags run scripts/data.ts --help", async () => {
  const { code, stdout, stderr } = await run("data", ["--help"]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^Usage: /);
});

Deno.test("a download the data task's flags do not allow names the flag to add", async () => {
  const out = `data/.permission_probe_${crypto.randomUUID().slice(0, 8)}.csv`;
  try {
    const args = ["--url", "http://denied.invalid/htru2.zip", "--force", "--out", out];
    const { code, stderr } = await run("data", args);
    assert.notEqual(code, 0);
    assert.match(stderr, /Requires net access to "denied\.invalid:80".*--allow-net flag/);
    assert.equal(await exists(join(ROOT, out)), false, "a failed download left a file");
  } finally {
    await Deno.remove(join(ROOT, out)).catch(() => {});
  }
});

needsPulsarData.test("the train task's flags train on data and write results anywhere the user says", async () => {
  const data = await pulsarCsvPath();
  const out = await Deno.makeTempDir({ prefix: "denograd_permissions_" });
  try {
    // Two workers: they inherit the task's permissions and load the library from disk. The
    // step (batch 3000 on 8-64-2: 4.2M multiply-adds) is big enough to split, so both compute.
    const args = [
      ...["--data", data, "--out", join(out, "nested"), "--steps", "20", "--workers", "2"],
      ...["--layers", "8,64,2", "--batch", "3000"],
    ];
    const { code, stderr } = await run("train", args);
    assert.equal(code, 0, stderr);
    const metrics = JSON.parse(await Deno.readTextFile(join(out, "nested", "metrics.json")));
    assert.ok(metrics.training.loss.length > 0);
    assert.equal(metrics.config.workers, 2);
    assert.deepEqual([metrics.training.workers, metrics.training.shards], [2, 6]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

needsPulsarData.test("the train script names the flag to add when a permission is missing", async () => {
  const data = await pulsarCsvPath();
  const out = await Deno.makeTempDir({ prefix: "denograd_permissions_" });
  try {
    const args = ["--data", data, "--out", out, "--steps", "5"];
    const { code, stderr } = await run("train", args, "--allow-write");
    assert.equal(code, 1, stderr); // an I/O error found before training, as --help says
    assert.match(stderr, /cannot write --out .*: Deno was not given --allow-write/s);
    assert.doesNotMatch(stderr, /^\s+at /m, "a stack trace instead of a message");
    assert.deepEqual([...Deno.readDirSync(out)], [], "files written without permission");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
