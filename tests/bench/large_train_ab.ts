// train() on the large config (8-256-256-2, batch 1000, 6 shards) of a baseline copy of the
// library against this tree, on 1 and 2 threads, alternating runs in one process.
//
//   mkdir -p /tmp/base && git archive <commit> lib mod.ts | tar -x -C /tmp/base
//   deno run -A --config tests/bench/deno.json tests/bench/large_train_ab.ts --old /tmp/base [--steps 60]
//
// Prints the median and fastest ms per step of each tree and thread count, and the load average.
// The baseline takes `workers` (its name for threads); this tree takes `threads`.

import { parseArgs } from "node:util";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

type Mod = typeof import("../../mod.ts");

const { values } = parseArgs({
  args: Deno.args,
  options: {
    old: { type: "string" },
    steps: { type: "string", default: "60" },
    rounds: { type: "string", default: "3" },
  },
});
if (values.old === undefined) throw new Error("--old DIR: a copy of lib/ and mod.ts to compare");
const steps = Number(values.steps);
const trees: [string, Mod][] = [
  ["baseline", await import(pathToFileURL(join(Deno.realPathSync(values.old), "mod.ts")).href)],
  ["this tree", await import(new URL("../../mod.ts", import.meta.url).href)],
];

/** Milliseconds per step of one `train()` run of `steps` steps on `threads` threads. */
async function msPerStep(mod: Mod, isBaseline: boolean, threads: number): Promise<number> {
  const rng = mod.createRng(1);
  const X = mod.Matrix.zeros(4000, 8), Y = mod.Matrix.zeros(4000, 2);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  for (let i = 0; i < 4000; i++) Y.data[2 * i + (i % 2)] = 1;
  const params = mod.initMLP([8, 256, 256, 2], mod.createRng(0));
  const options = { params, X, Y, lr: 0.01, batch: 1000, steps, logEvery: steps, shards: 6 };
  const result = await mod.train(
    isBaseline ? { ...options, workers: threads } : { ...options, threads },
  );
  return result.seconds / steps * 1000;
}

const times = new Map<string, number[]>();
for (let round = 0; round < Number(values.rounds); round++) {
  for (const threads of [1, 2]) {
    for (const [name, mod] of trees) {
      const key = `${name}, ${threads} thread${threads === 1 ? "" : "s"}`;
      if (!times.has(key)) times.set(key, []);
      times.get(key)!.push(await msPerStep(mod, name === "baseline", threads));
    }
  }
}
const median = (a: number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1];
for (const [key, t] of times) {
  console.log(
    `${key.padEnd(22)} median ${median(t).toFixed(1)} ms  fastest ${Math.min(...t).toFixed(1)} ms`,
  );
}
console.log(`load average ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
