// Steps per second of the trainer on 1, 2 and "auto" threads, for the seed and a large config.
//
// Each iteration runs a whole `train` call but times only steps logEvery+1 .. 2·logEvery
// (between the two loss logs, so one log forward pass is in): starting and stopping workers,
// and a fresh worker's first steps while its JIT warms up, are left out. Ratios are against
// 1 worker. "auto" runs before 2 workers: right after a 2-worker run, the ended workers'
// teardown still takes CPU and made the next entry look 25-40% slower.

import { createRng, initMLP, Matrix, oneHot, train } from "../../mod.ts";

interface Config {
  name: string;
  sizes: number[];
  batch: number;
  /** Steps before the timed window, and in it. */
  logEvery: number;
  n: number;
  /** Micro-shards; the trainer's default when omitted. */
  shards?: number;
}

const configs: Config[] = [
  { name: "seed 8-25-10-2, batch 100", sizes: [8, 25, 10, 2], batch: 100, logEvery: 300, n: 10 },
  // The seed step split in two: what the sync costs when a step is too small to share.
  {
    name: "seed split in 2 micro-shards",
    sizes: [8, 25, 10, 2],
    batch: 100,
    logEvery: 300,
    n: 10,
    shards: 2,
  },
  {
    name: "large 8-256-256-2, batch 1000",
    sizes: [8, 256, 256, 2],
    batch: 1000,
    logEvery: 20,
    n: 4,
  },
];

// The pulsar set's shape (3,278 × 8, two classes), with seeded normal features.
const rng = createRng(1);
const X = Matrix.zeros(3278, 8);
for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
const Y = oneHot(Array.from({ length: X.rows }, () => rng.randint(2)), 2);

for (const config of configs) {
  for (const workers of [1, "auto", 2] as const) {
    Deno.bench({
      name: `${config.name}, workers ${workers}`,
      group: config.name,
      baseline: workers === 1,
      n: config.n,
      warmup: 1,
      async fn(b) {
        let marks = 0;
        const result = await train({
          params: initMLP(config.sizes, createRng(0)),
          X,
          Y,
          batch: config.batch,
          steps: 2 * config.logEvery,
          logEvery: config.logEvery,
          workers,
          shards: config.shards,
          onLog: () => {
            marks++;
            if (marks === 1) b.start();
            if (marks === 2) b.end();
          },
        });
        if (result.status !== "ok") throw new Error(`training ${result.status}`);
      },
    });
  }
}
