// End-to-end: a separate Deno project with no config imports mod.ts from an HTTP URL.

import assert from "node:assert/strict";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CONTENT_TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
};
const TIMEOUT_MS = 120_000;

/** Serves the repository's files read-only on 127.0.0.1, recording every path requested. */
function serveRepository(served: string[]): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    if (request.method !== "GET") return new Response("Method not allowed", { status: 405 });
    // URL parsing already resolves "..", so the path cannot climb above the root.
    const path = normalize(decodeURIComponent(new URL(request.url).pathname));
    served.push(path);
    const type = CONTENT_TYPES[extname(path)];
    if (type === undefined) return new Response("Not found", { status: 404 });
    try {
      return new Response(await Deno.readFile(join(ROOT, path)), {
        headers: { "content-type": type },
      });
    } catch {
      return new Response("Not found", { status: 404 });
    }
  });
}

/** The user's program: what a project importing denograd by URL would write. */
function userProgram(base: string): string {
  return `
// mod.ts reaches npm packages through lib/data: npm: specifiers must resolve from a remote module.
import * as dg from "${base}/mod.ts";

const print = (key: string, value: unknown) => console.log(JSON.stringify({ [key]: value }));
const f = (x: dg.Tensor) => dg.add(dg.mul(3, dg.mul(x, x)), 7);
print("grad", dg.grad(f)(2));

const rng = dg.createRng(1);
const X = dg.Matrix.zeros(64, 8), Y = dg.Matrix.zeros(64, 2);
for (let i = 0; i < 64; i++) {
  for (let j = 0; j < 8; j++) X.data[i * 8 + j] = rng.normal();
  Y.data[i * 2 + (X.data[i * 8] + X.data[i * 8 + 1] > 0 ? 1 : 0)] = 1;
}
const params = dg.initMLP([8, 6, 2], dg.createRng(0));
print("mlpGradShapes", dg.grad(dg.mseLoss)(params, X, Y).map((g) => g.shape));
print("csvRows", dg.parseLabeledCsv("a,label\\n1,0\\n2,1\\n", { source: "inline.csv" }).X.rows);

const run = (workers: number) =>
  dg.train({
    params: dg.initMLP([8, 6, 2], dg.createRng(0)), X, Y,
    // Four shards, so the remote worker computes a share of every step.
    lr: 0.1, batch: 32, steps: 40, seed: 0, workers, logEvery: 10, shards: 4,
  });
const one = await run(1), two = await run(2);
const bits = (r: { params: dg.Matrix[] }) => r.params.map((p) => Array.from(p.data));
print("train", {
  workers: two.workers,
  firstLoss: two.loss[0].loss,
  lastLoss: two.loss.at(-1)!.loss,
  sameAsOneWorker: JSON.stringify(bits(one)) === JSON.stringify(bits(two)),
});

// The experiment itself, from mod.ts alone, on data given in memory.
const rows = Array.from({ length: 40 }, (_, i) => \`\${i % 3},\${i % 2}\`).join("\\n");
const { metrics, model } = await dg.runExperiment(
  { ...dg.EXPERIMENT_DEFAULTS, data: "inline.csv", layers: [1, 3, 2], steps: 5, workers: 1 },
  { data: dg.parseLabeledCsv(\`x,label\\n\${rows}\\n\`) },
);
print("experiment", { status: metrics.status, rows: metrics.data.rows, sizes: model?.sizes });
`;
}

Deno.test("mod.ts works when imported by URL from a project with no config", async (t) => {
  const served: string[] = [];
  const server = serveRepository(served);
  const project = await Deno.makeTempDir({ prefix: "denograd_user_" });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    const host = `127.0.0.1:${server.addr.port}`;
    await Deno.writeTextFile(join(project, "main.ts"), userProgram(`http://${host}`));
    const output = await new Deno.Command(Deno.execPath(), {
      // --allow-import is the only permission a user needs. --check type-checks the program
      // against the remote types as an editor would; --no-config ignores any deno.json above.
      args: ["run", "--check", "--no-config", `--allow-import=${host}`, "main.ts"],
      cwd: project,
      // A fresh cache, as on a user's first run: modules and npm packages are fetched anew.
      env: { DENO_DIR: join(project, ".deno_dir"), NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);
    assert.ok(!controller.signal.aborted, `deno run took over ${TIMEOUT_MS} ms:\n${stderr}`);
    assert.equal(output.code, 0, `deno run failed:\n${stderr}`);
    const results = Object.assign({}, ...stdout.trim().split("\n").map((l) => JSON.parse(l)));

    await t.step("computes the gradient of 3x² + 7", () => {
      assert.equal(results.grad, 12);
      assert.deepEqual(results.mlpGradShapes, [[6, 8], [6, 1], [2, 6], [2, 1]]);
    });
    await t.step("resolves the npm packages lib/data imports (csv-parse)", () => {
      assert.equal(results.csvRows, 2);
    });
    await t.step("trains with 2 workers loaded from the remote URL, as with 1", () => {
      assert.equal(results.train.workers, 2);
      assert.ok(results.train.lastLoss < results.train.firstLoss, JSON.stringify(results));
      assert.equal(results.train.sameAsOneWorker, true);
      assert.ok(served.includes("/lib/train/worker.ts"), `worker not served: ${served}`);
    });
    await t.step("runs the experiment from mod.ts alone", () => {
      assert.deepEqual(results.experiment, { status: "ok", rows: 40, sizes: [1, 3, 2] });
    });
  } finally {
    clearTimeout(timer);
    await server.shutdown();
    await Deno.remove(project, { recursive: true });
  }
});
