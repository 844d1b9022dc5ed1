// The seed step (8-25-10-2 tanh MSE, batch 100, one thread, value and gradient + SGD in scratch
// memory), A/B in one process: another copy of the library (a baseline commit) eagerly, against
// this tree eagerly and under jit, in interleaved rounds, so machine noise hits all three alike.
//
//   mkdir -p /tmp/base && git archive <commit> lib mod.ts | tar -x -C /tmp/base
//   deno run -A --config tests/bench/deno.json tests/bench/seed_step_ab.ts --old /tmp/base
//
// Prints the median and fastest µs per step of each side, the baseline ÷ side ratio, and the
// load average.

import { parseArgs } from "node:util";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

type Mod = typeof import("../../mod.ts");
type Step = () => void;

const { values } = parseArgs({
  args: Deno.args,
  options: { old: { type: "string" }, rounds: { type: "string", default: "30" } },
});
if (values.old === undefined) throw new Error("--old DIR: a copy of lib/ and mod.ts to compare");
const load = async (dir: string) => ({
  mod: await import(pathToFileURL(join(dir, "mod.ts")).href) as Mod,
  // withScratch is internal; both trees export it from lib/autograd/ops.ts.
  scratch: (await import(pathToFileURL(join(dir, "lib/autograd/ops.ts")).href)).withScratch as <
    T,
  >(f: () => T) => T,
});

/** One seed step on a fresh seeded network and batch; `jit` wraps valueAndGrad when given. */
function seedStep({ mod, scratch }: Awaited<ReturnType<typeof load>>, useJit: boolean): Step {
  const rng = mod.createRng(0);
  const params = mod.initMLP([8, 25, 10, 2], rng);
  const X = mod.Matrix.zeros(100, 8), Y = mod.Matrix.zeros(100, 2);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  for (let i = 0; i < 100; i++) Y.data[2 * i + (i % 2)] = 1;
  const lossAndGrad = useJit
    ? mod.jit(mod.valueAndGrad(mod.mseLoss))
    : mod.valueAndGrad(mod.mseLoss);
  return () =>
    scratch(() => {
      const [, g] = lossAndGrad(params, X, Y);
      for (let k = 0; k < params.length; k++) {
        const p = params[k].data, d = (g[k] as InstanceType<Mod["Matrix"]>).data;
        for (let i = 0; i < p.length; i++) p[i] -= 0.01 * d[i];
      }
    });
}

const oldTree = await load(Deno.realPathSync(values.old));
const newTree = await load(new URL("../..", import.meta.url).pathname);
const sides: [string, Step][] = [
  ["baseline, eager", seedStep(oldTree, false)],
  ["this tree, eager", seedStep(newTree, false)],
  ["this tree, jit", seedStep(newTree, true)],
];
for (const [, step] of sides) for (let i = 0; i < 3000; i++) step(); // warm up
const times = new Map<string, number[]>(sides.map(([name]) => [name, []]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [name, step] of sides) {
    const start = performance.now();
    for (let i = 0; i < 500; i++) step();
    times.get(name)!.push((performance.now() - start) / 500 * 1000);
  }
}
const median = (a: number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const baseline = median(times.get("baseline, eager")!);
for (const [name, t] of times) {
  console.log(
    `${name.padEnd(17)} median ${median(t).toFixed(1)} µs  fastest ${
      Math.min(...t).toFixed(1)
    } µs  baseline ÷ this ${(baseline / median(t)).toFixed(2)}x`,
  );
}
console.log(`load average ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
