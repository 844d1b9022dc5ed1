// The first steps of a fresh process against the steady step, for ours and every peer.
//
// Each side runs in its own fresh `deno` process (so nothing is warm: not the JS engine's tiers,
// not a peer's compiled kernels or jit cache) and times, on the same problem as peers_bench.ts:
//   first:  the mean of steps 1..N (what a short `deno task train` run sees), and
//   steady: the mean of steps 2N+1..3N (after N more untimed steps).
// It prints a Markdown table; ratios are against ours in the same run.
//
//   deno run --allow-read --allow-run tests/bench/warmup.ts                       # seed, N = 1000
//   deno run --allow-read --allow-run tests/bench/warmup.ts --config large --steps 20

import { parseArgs } from "node:util";
import { type Config, LARGE, ourStep, PEERS, problem, SEED } from "./_peers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    config: { type: "string", default: "seed" },
    steps: { type: "string", default: "1000" },
    child: { type: "string" },
    only: { type: "string" },
  },
});
const configs: Record<string, Config> = { seed: SEED, large: LARGE };
const config = configs[values.config!];
const steps = Number(values.steps);
if (!config || !(Number.isInteger(steps) && steps > 0)) {
  console.error("usage: warmup.ts [--config seed|large] [--steps N] [--only name,name]");
  Deno.exit(2);
}

interface Timing {
  name: string;
  first: number;
  steady: number;
}

/** Child: times one side's steps 1..N and 2N+1..3N, prints them as JSON. */
async function child(side: string): Promise<Timing> {
  const { params, X, Y } = problem(config);
  let name = "denograd, float64, 1 thread";
  let run: () => number | Promise<number> = () => ourStep(params, X, Y);
  if (side !== "ours") {
    const peer = await PEERS[side](params, X, Y);
    name = peer.name;
    run = () => peer.run();
  }
  const window = async () => {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      const r = run();
      if (r instanceof Promise) await r;
    }
    return (performance.now() - t0) / steps;
  };
  const first = await window();
  await window();
  const steady = await window();
  return { name, first, steady };
}

if (values.child) {
  console.log(JSON.stringify(await child(values.child)));
  // Eager jax-js leaves something on the event loop that keeps the process alive.
  Deno.exit(0);
} else {
  const sides = values.only ? values.only.split(",") : ["ours", ...Object.keys(PEERS)];
  const rows: Timing[] = [];
  for (const side of sides) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        import.meta.filename!,
        "--child",
        side,
        "--config",
        values.config!,
        "--steps",
        String(steps),
      ],
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error(`warmup.ts: ${side} failed`);
    rows.push(JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!));
  }
  const us = (ms: number) =>
    (ms * 1000).toLocaleString("en-US", { maximumFractionDigits: ms < 0.1 ? 1 : 0 });
  const x = (r: number) => `${r.toFixed(r < 10 ? 2 : 1)}x`;
  const ours = rows[0];
  console.log(`${config.name}: µs per step, first ${steps} steps of a fresh process and steady`);
  console.log(`(steps ${2 * steps + 1}..${3 * steps}); ratios against the first row.\n`);
  console.log(
    "| side | first " + steps + " steps | steady | first ÷ steady | first ÷ row 1 first | " +
      "steady ÷ row 1 steady |",
  );
  console.log("| --- | --: | --: | --: | --: | --: |");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${us(r.first)} | ${us(r.steady)} | ${x(r.first / r.steady)} | ` +
        `${x(r.first / ours.first)} | ${x(r.steady / ours.steady)} |`,
    );
  }
}
