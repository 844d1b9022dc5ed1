// The training loop's overhead, A/B in one process: `train()` of this tree against `train()` of
// another copy of lib/ (a baseline commit), alternating 1,000-step runs on the seed config.
//
//   mkdir -p /tmp/base && git archive <commit> lib mod.ts deno.json deno.lock scripts | tar -x -C /tmp/base
//   deno run -A --config tests/bench/deno.json tests/bench/train_loop_bench.ts --old /tmp/base [--rounds 15] [--fresh 9]
//
// Prints, per tree, the median (and fastest) `seconds / steps` of the runs, the time of steps
// 1–50, 51–100 and 101–1000 of its first run (from `onLog` at the default `logEvery` 50), the
// load average, and whether the two trees' trained parameters are bit-identical. With
// `--fresh N` it first alternates N fresh `scripts/train.ts` processes of each tree (the default
// run, as `deno task train` runs it) and prints their `training.seconds / steps`, process start
// to files written, and whether their model.json files are byte-identical.

import { parseArgs } from "node:util";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as ours from "../../mod.ts";

type Mod = typeof ours;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    old: { type: "string" },
    rounds: { type: "string", default: "15" },
    fresh: { type: "string", default: "0" },
    steps: { type: "string", default: "1000" },
    data: {
      type: "string",
      default: new URL("../../../shared/data/pulsars_tuned.csv", import.meta.url).pathname,
    },
  },
});
if (values.old === undefined) throw new Error("--old DIR: a copy of lib/ and mod.ts to compare");
const theirs: Mod = await import(pathToFileURL(join(Deno.realPathSync(values.old), "mod.ts")).href);

// The CSV: 8 feature columns, then the 0/1 label.
const lines = (await Deno.readTextFile(values.data)).trim().split("\n").slice(1);
const rows = lines.map((l) => l.split(",").map(Number));
const make = (m: Mod) => {
  const X = m.Matrix.from(rows.map((r) => r.slice(0, 8)));
  const Y = m.Matrix.from(rows.map((r) => (r[8] === 1 ? [0, 1] : [1, 0])));
  return { X, Y };
};

const steps = Number(values.steps);

/** One default-like run: seconds per step, the phase times (ms) and the trained bits. */
async function run(m: Mod) {
  const { X, Y } = make(m);
  const params = m.initMLP([8, 25, 10, 2], m.createRng(0));
  const marks: number[] = [];
  const t0 = performance.now();
  const result = await m.train({
    params,
    X,
    Y,
    lr: 0.01,
    steps,
    threads: 1,
    onLog: (e) => {
      if (e.step === 50 || e.step === 100 || e.step === steps) marks.push(performance.now());
    },
  });
  const phases = [marks[0] - t0, marks[1] - marks[0], marks[2] - marks[1]];
  const bits = new Float64Array(params.flatMap((p) => Array.from(p.data)));
  return { perStep: result.seconds * 1e6 / steps, phases, bits };
}

const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`load average before: ${load()}`);

/** Fresh default runs of each tree's scripts/train.ts, alternating. */
async function fresh(n: number): Promise<void> {
  const trees = {
    old: Deno.realPathSync(values.old!),
    new: new URL("../..", import.meta.url).pathname,
  };
  const res = {
    old: { perStep: [] as number[], wall: [] as number[] },
    new: { perStep: [] as number[], wall: [] as number[] },
  };
  const dir = await Deno.makeTempDir({ prefix: "train_loop_bench_" });
  const models = new Set<string>();
  try {
    for (let r = 0; r < n; r++) {
      const order = r % 2 === 0 ? (["old", "new"] as const) : (["new", "old"] as const);
      for (const who of order) {
        const tree = trees[who], out = join(dir, `${who}${r}`);
        const args = ["run", "--allow-read", "--allow-write", "--config", join(tree, "deno.json")];
        const t0 = performance.now();
        const { code, stderr } = await new Deno.Command(Deno.execPath(), {
          args: [...args, join(tree, "scripts/train.ts"), "--data", values.data!, "--out", out],
          stdout: "null",
          stderr: "piped",
        }).output();
        const wall = performance.now() - t0;
        if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
        const metrics = JSON.parse(await Deno.readTextFile(join(out, "metrics.json")));
        res[who].perStep.push(metrics.training.seconds * 1e6 / metrics.config.steps);
        res[who].wall.push(wall);
        models.add(await Deno.readTextFile(join(out, "model.json")));
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  for (const who of ["old", "new"] as const) {
    const { perStep, wall } = res[who];
    console.log(
      `${who}: fresh default run training.seconds/steps µs median ${median(perStep).toFixed(1)} ` +
        `(fastest ${Math.min(...perStep).toFixed(1)}); process start to files written ms median ` +
        `${median(wall).toFixed(0)} (fastest ${Math.min(...wall).toFixed(0)})`,
    );
  }
  const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(3);
  console.log(
    `old/new fresh: per step ${ratio(res.old.perStep, res.new.perStep)}x, process ` +
      `${ratio(res.old.wall, res.new.wall)}x; model.json byte-identical: ${models.size === 1}`,
  );
  console.log(`load average after the fresh runs: ${load()}`);
}
if (Number(values.fresh) > 0) await fresh(Number(values.fresh));
const rounds = Number(values.rounds);
const res = { old: [] as number[], new: [] as number[] };
const first: Record<string, number[]> = {};
let same = true;
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first, so neither always runs on the other's warm caches.
  const order = r % 2 === 0 ? (["old", "new"] as const) : (["new", "old"] as const);
  const bits: Float64Array[] = [];
  for (const who of order) {
    const out = await run(who === "old" ? theirs : ours);
    res[who].push(out.perStep);
    first[who] ??= out.phases;
    bits.push(out.bits);
  }
  const [a, b] = bits;
  same &&= a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}
console.log(`load average after: ${load()}`);
for (const who of ["old", "new"] as const) {
  const [p1, p2, p3] = first[who].map((x) => x.toFixed(1));
  console.log(
    `${who}: train() µs/step median ${median(res[who]).toFixed(1)} (fastest ${
      Math.min(...res[who]).toFixed(1)
    }); first run ms: steps 1-50 ${p1}, 51-100 ${p2}, 101-${steps} ${p3}`,
  );
}
const ratios = res.old.map((o, i) => o / res.new[i]);
console.log(
  `old/new per step: ${(median(res.old) / median(res.new)).toFixed(3)}x ` +
    `(median of paired ratios ${median(ratios).toFixed(3)}x); bit-identical: ${same}`,
);
