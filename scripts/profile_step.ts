// Runs a training step (the seed config 8-25-10-2 with batch 100, or the large 8-256-256-2 with
// batch 1000) many times for profiling, or summarises a V8 CPU profile by file. Profile, then
// summarise:
//   deno run --cpu-prof --cpu-prof-dir=/tmp/prof scripts/profile_step.ts --steps 100000 [--eager]
//   deno run --allow-read=/tmp/prof scripts/profile_step.ts --summary /tmp/prof/<file>.cpuprofile

import { parseArgs } from "node:util";
import { basename } from "node:path";
import { Matrix } from "../lib/matrix.ts";
import { withScratch } from "../lib/autograd/ops.ts";
import { valueAndGrad } from "../lib/autograd/transforms.ts";
import { jit } from "../lib/autograd/jit.ts";
import { initMLP, mseLoss } from "../lib/nn/mlp.ts";
import { createRng } from "../lib/random.ts";

const CONFIGS = {
  seed: { sizes: [8, 25, 10, 2], batch: 100 },
  large: { sizes: [8, 256, 256, 2], batch: 1000 },
};

/**
 * Microseconds per step (forward, backward, SGD) over `steps`, as train() runs it: jitted, or
 * eager with `eager`.
 */
function runSteps(config: keyof typeof CONFIGS, steps: number, eager: boolean): number {
  const { sizes, batch } = CONFIGS[config];
  const rng = createRng(0);
  const params = initMLP(sizes, rng);
  const X = Matrix.zeros(batch, 8), Y = Matrix.zeros(batch, 2);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  for (let i = 0; i < batch; i++) Y.data[2 * i + rng.randint(2)] = 1;
  const lossAndGrad = eager ? valueAndGrad(mseLoss) : jit(valueAndGrad(mseLoss));
  const start = performance.now();
  for (let s = 0; s < steps; s++) {
    withScratch(() => {
      const [, grads] = lossAndGrad(params, X, Y);
      for (let i = 0; i < params.length; i++) {
        const p = params[i].data, g = grads[i].data;
        for (let j = 0; j < p.length; j++) p[j] -= 0.01 * g[j];
      }
    });
  }
  return (performance.now() - start) * 1000 / steps;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { url: string; functionName: string } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per source file (or V8 category) as percentages, largest first. */
function summarise(profile: CpuProfile): [string, number][] {
  const where = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const time = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = where.get(id)!;
    const key = frame.url ? basename(frame.url) : frame.functionName;
    time.set(key, (time.get(key) ?? 0) + profile.timeDeltas[i]);
    total += profile.timeDeltas[i];
  });
  return [...time].map(([k, t]): [string, number] => [k, 100 * t / total])
    .sort((a, b) => b[1] - a[1]);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      config: { type: "string", default: "seed" },
      steps: { type: "string", default: "20000" },
      summary: { type: "string" },
      eager: { type: "boolean", default: false },
    },
  });
  if (values.summary !== undefined) {
    const profile = JSON.parse(await Deno.readTextFile(values.summary)) as CpuProfile;
    // Anonymous files are WebAssembly modules: V8 names them by a hash.
    for (const [file, pct] of summarise(profile).slice(0, 15)) {
      console.log(`${pct.toFixed(1).padStart(5)}%  ${file}`);
    }
  } else {
    const steps = Number(values.steps), config = values.config;
    if (!Number.isInteger(steps) || steps < 1) {
      console.error(`--steps must be a positive integer, got ${values.steps}`);
      Deno.exit(2);
    }
    if (config !== "seed" && config !== "large") {
      console.error(`--config must be seed or large, got ${config}`);
      Deno.exit(2);
    }
    const us = runSteps(config, steps, values.eager);
    const how = values.eager ? "eager" : "jit";
    console.log(`${us.toFixed(1)} µs per ${config} step (${how}) over ${steps} steps`);
  }
}
