// The training loop's overhead, A/B in one process: `train()` of this tree against `train()` of
// another copy of lib/ (a baseline commit), alternating 1,000-step runs on the seed config.
//
//   mkdir -p /tmp/base && git archive <commit> lib mod.ts deno.json deno.lock scripts | tar -x -C /tmp/base
//   deno run -A --config tests/bench/deno.json tests/bench/train_loop_bench.ts --old /tmp/base [--rounds 15] [--fresh 9]
//
// Prints, per tree, the median (and fastest) `seconds / steps` of the runs (warm code), the
// load average, and whether the two trees' trained parameters are bit-identical. With
// `--fresh N` it first alternates, N times per tree, a fresh `scripts/train.ts` process (the
// default run, as `deno task train` runs it: its `training.seconds / steps`, process start to
// files written, and whether the model.json files are byte-identical) and a fresh process
// running one `train()` (the time of steps 1–50, 51–100 and 101–1000, from `onLog` at the
// default `logEvery` 50: where the warm-up goes).

import { parseArgs } from "node:util";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

type Mod = typeof import("../../mod.ts");

const { values } = parseArgs({
  args: Deno.args,
  options: {
    old: { type: "string" },
    rounds: { type: "string", default: "15" },
    fresh: { type: "string", default: "0" },
    child: { type: "string" },
    steps: { type: "string", default: "1000" },
    data: {
      type: "string",
      default: new URL("../../../shared/data/pulsars_tuned.csv", import.meta.url).pathname,
    },
  },
});
if (values.old === undefined) throw new Error("--old DIR: a copy of lib/ and mod.ts to compare");
const trees = {
  old: Deno.realPathSync(values.old),
  new: new URL("../..", import.meta.url).pathname,
};
const load = (who: "old" | "new"): Promise<Mod> =>
  import(pathToFileURL(join(trees[who], "mod.ts")).href);

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

const loadavg = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

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
  const phases = { old: [] as number[][], new: [] as number[][] };
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
        // One train() in a fresh process of its own: where the warm-up goes.
        const child = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", import.meta.filename!, ...Deno.args, "--child", who],
          stderr: "inherit",
        }).output();
        phases[who].push(JSON.parse(new TextDecoder().decode(child.stdout)));
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
    const [p1, p2, p3, p4] = [0, 1, 2, 3].map((i) => median(phases[who].map((p) => p[i])));
    console.log(
      `${who}: one train() in a fresh process, medians: µs/step ${p4.toFixed(1)}; ms for steps ` +
        `1-50 ${p1.toFixed(1)}, 51-100 ${p2.toFixed(1)}, 101-${steps} ${p3.toFixed(1)}`,
    );
  }
  const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(3);
  console.log(
    `old/new fresh: per step ${ratio(res.old.perStep, res.new.perStep)}x, process ` +
      `${ratio(res.old.wall, res.new.wall)}x; model.json byte-identical: ${models.size === 1}`,
  );
  console.log(`load average after the fresh runs: ${loadavg()}`);
}
if (values.child === "old" || values.child === "new") {
  const out = await run(await load(values.child));
  console.log(JSON.stringify([...out.phases, out.perStep]));
  Deno.exit(0);
}
console.log(`load average before: ${loadavg()}`);
if (Number(values.fresh) > 0) await fresh(Number(values.fresh));
const [ours, theirs] = [await load("new"), await load("old")];
const rounds = Number(values.rounds);
const res = { old: [] as number[], new: [] as number[] };
let same = true;
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first, so neither always runs on the other's warm caches.
  const order = r % 2 === 0 ? (["old", "new"] as const) : (["new", "old"] as const);
  const bits: Float64Array[] = [];
  for (const who of order) {
    const out = await run(who === "old" ? theirs : ours);
    res[who].push(out.perStep);
    bits.push(out.bits);
  }
  const [a, b] = bits;
  same &&= a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}
console.log(`load average after: ${loadavg()}`);
for (const who of ["old", "new"] as const) {
  console.log(
    `${who}: warm train() in one process, µs/step median ${median(res[who]).toFixed(1)} ` +
      `(fastest ${Math.min(...res[who]).toFixed(1)})`,
  );
}
const ratios = res.old.map((o, i) => o / res.new[i]);
console.log(
  `old/new per step: ${(median(res.old) / median(res.new)).toFixed(3)}x ` +
    `(median of paired ratios ${median(ratios).toFixed(3)}x); bit-identical: ${same}`,
);
