// jit against the eager path: the seed and large training steps as train() runs them (bench
// rows), and, run as a script, the default training run in fresh processes (warm-up included).
//
//   deno task bench tests/bench/jit_bench.ts     # the steady steps
//   deno run -A --config tests/bench/deno.json tests/bench/jit_bench.ts [--runs 5] [--data FILE]     # fresh train runs, A/B

import { parseArgs } from "node:util";
import { join } from "node:path";
import { jit, Matrix, valueAndGrad } from "../../mod.ts";
import { withScratch } from "../../lib/_arena.ts";
import { initMLP, mseLoss } from "../../lib/nn/mlp.ts";
import { createRng } from "../../lib/random.ts";
import { setShardJit } from "../../lib/train/_shard.ts";

const CONFIGS = {
  seed: { sizes: [8, 25, 10, 2], batch: 100 },
  large: { sizes: [8, 256, 256, 2], batch: 1000 },
};

type StepFn = (params: Matrix[], X: Matrix, Y: Matrix) => [unknown, Matrix[]];

/** One training step (value and gradient, then SGD in place) inside withScratch, as train(). */
function stepper(config: keyof typeof CONFIGS, lossAndGrad: StepFn): () => void {
  const { sizes, batch } = CONFIGS[config];
  const rng = createRng(0);
  const params = initMLP(sizes, rng);
  const X = Matrix.zeros(batch, 8), Y = Matrix.zeros(batch, 2);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  for (let i = 0; i < batch; i++) Y.data[2 * i + rng.randint(2)] = 1;
  return () =>
    withScratch(() => {
      const [, grads] = lossAndGrad(params, X, Y);
      for (let i = 0; i < params.length; i++) {
        const p = params[i].data, g = grads[i].data;
        for (let j = 0; j < p.length; j++) p[j] -= 0.01 * g[j];
      }
    });
}

const eager = () => valueAndGrad(mseLoss) as unknown as StepFn;
const jitted = () => jit(valueAndGrad(mseLoss)) as unknown as StepFn;

for (const config of ["seed", "large"] as const) {
  const group = `${config} step`;
  Deno.bench({ name: `${config}: eager`, group, baseline: true, fn: stepper(config, eager()) });
  Deno.bench({ name: `${config}: jit`, group, fn: stepper(config, jitted()) });
}

/** Steady µs per step of each mode, interleaved in rounds; the median round and the fastest. */
function steady(config: keyof typeof CONFIGS, rounds: number, steps: number) {
  const runs = { eager: stepper(config, eager()), jit: stepper(config, jitted()) };
  const times: Record<string, number[]> = { eager: [], jit: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [mode, run] of Object.entries(runs)) {
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) run();
      times[mode].push((performance.now() - t0) * 1000 / steps);
    }
  }
  return times;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const fmt = (a: number[]) => `${median(a).toFixed(1)} (fastest ${Math.min(...a).toFixed(1)})`;

/** Child: the CLI's default run with jit on or off, as `deno task train` runs it. */
async function child(mode: string, args: string[]): Promise<number> {
  setShardJit(mode === "jit");
  const { runTrain } = await import("../../scripts/train.ts");
  return await runTrain(args);
}

async function parent(runs: number, data: string): Promise<void> {
  const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(`load average before: ${load()}`);
  const dir = await Deno.makeTempDir({ prefix: "jit_bench_" });
  const results: Record<string, { perStep: number[]; wall: number[] }> = {
    eager: { perStep: [], wall: [] },
    jit: { perStep: [], wall: [] },
  };
  try {
    for (let r = 0; r < runs; r++) {
      for (const mode of ["eager", "jit"]) {
        const out = join(dir, `${mode}${r}`);
        const t0 = performance.now();
        const { code, stderr } = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", import.meta.filename!, "--child", mode, "--data", data, "--out", out],
          stdout: "null",
          stderr: "piped",
        }).output();
        const wall = performance.now() - t0;
        if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
        const metrics = JSON.parse(await Deno.readTextFile(join(out, "metrics.json")));
        const t = metrics.training;
        results[mode].perStep.push(t.seconds * 1e6 / metrics.config.steps);
        results[mode].wall.push(wall / 1000);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const st = steady("seed", 15, 2000);
  const lg = steady("large", 5, 10);
  console.log(`load average after: ${load()}`);
  for (const mode of ["eager", "jit"]) {
    const { perStep, wall } = results[mode];
    console.log(
      `${mode}: seed steady µs ${fmt(st[mode])}; default run training.seconds/steps µs ` +
        `${fmt(perStep)} = ${(median(perStep) / median(st[mode])).toFixed(2)}x steady; ` +
        `process start to files written s ${fmt(wall)}; large step ms ` +
        `${(median(lg[mode]) / 1000).toFixed(2)} (fastest ${
          (Math.min(...lg[mode]) / 1000).toFixed(2)
        })`,
    );
  }
  const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(2);
  console.log(
    `eager/jit: steady seed ${ratio(st.eager, st.jit)}x, default run per step ` +
      `${ratio(results.eager.perStep, results.jit.perStep)}x, process ` +
      `${ratio(results.eager.wall, results.jit.wall)}x, large ${ratio(lg.eager, lg.jit)}x`,
  );
}

if (import.meta.main) {
  const { values, positionals: _ } = parseArgs({
    args: Deno.args,
    strict: false,
    options: {
      runs: { type: "string", default: "5" },
      data: {
        type: "string",
        default: new URL("../../../shared/data/pulsars_tuned.csv", import.meta.url).pathname,
      },
      child: { type: "string" },
      out: { type: "string" },
    },
  });
  if (typeof values.child === "string") {
    Deno.exit(
      await child(values.child, ["--data", String(values.data), "--out", String(values.out)]),
    );
  }
  await parent(Number(values.runs), String(values.data));
}
