// Benchmarks of one SGD training step, ours (float64) against TF.js 4.22 (float32, wasm and cpu)
// and jax-js 0.1.25 (its Wasm device, float64 and float32, eager and under `jit`).
//
// One step = forward + backward + SGD update (lr 0.01) of a tanh MLP's mean squared error on a
// random batch, every side starting from the same parameters (see _peers.ts). These are steady
// state figures (deno bench warms up first); warmup.ts times the first 1,000 steps of a fresh
// process. Run: `deno task bench tests/bench/peers_bench.ts`.

import { kernelBackend } from "../../lib/_kernels.ts";
import { checkSameStep, type Config, LARGE, ourStep, PEERS, problem, SEED } from "./_peers.ts";

interface BenchConfig extends Config {
  /** Fixed iteration counts where a step takes long enough for a few to give a stable mean. */
  n?: number;
  warmup?: number;
}

const configs: BenchConfig[] = [SEED, { ...LARGE, n: 10, warmup: 2 }];

for (const config of configs) {
  const { name: group, n, warmup } = config;
  const { params, X, Y } = problem(config);
  const peers = [];
  for (const setUp of Object.values(PEERS)) peers.push(await setUp(params, X, Y));
  const oursLoss = ourStep(params, X, Y);
  for (const peer of peers) await checkSameStep(group, params, oursLoss, peer);

  Deno.bench({
    name: `${group}: denograd, float64, 1 thread, ${kernelBackend()} kernels`,
    group,
    baseline: true,
    n,
    warmup,
    fn: () => void ourStep(params, X, Y),
  });
  for (const peer of peers) {
    // The eager jax-js steps take ~10 ms (seed) to seconds (large): a few iterations suffice.
    const slow = peer.name.startsWith("jax-js") && !peer.name.endsWith("jit");
    Deno.bench({
      name: `${group}: ${peer.name}`,
      group,
      n: slow ? Math.min(n ?? 100, 100) : n,
      warmup: slow ? Math.min(warmup ?? 10, 10) : warmup,
      async fn() {
        await peer.run();
      },
    });
  }
}
