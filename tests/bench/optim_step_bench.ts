// The optimizer update's share of a training step on the seed config (8-25-10-2, batch 100):
// `stepFlat` alone on the seed's 507 parameters, against whole steps of `train` with each
// optimizer (1 thread, the pulsar set's shape). Issue 11 wants the update under 5% of a step.

import {
  adam,
  adamw,
  chain,
  clipByGlobalNorm,
  createRng,
  initMLP,
  Matrix,
  oneHot,
  type Optimizer,
  rmsprop,
  sgd,
  train,
} from "../../mod.ts";

const P = 8 * 25 + 25 + 25 * 10 + 10 + 10 * 2 + 2; // 507, the seed network's parameters
const optimizers: Record<string, () => Optimizer> = {
  sgd: () => sgd({ lr: 0.01 }),
  momentum: () => sgd({ lr: 0.01, momentum: 0.9 }),
  rmsprop: () => rmsprop({ lr: 0.01 }),
  adam: () => adam({ lr: 0.01 }),
  adamw: () => adamw({ lr: 0.01 }),
  "clip + adam": () => chain(clipByGlobalNorm(1), adam({ lr: 0.01 })),
};

const UPDATES = 1000;
for (const [name, make] of Object.entries(optimizers)) {
  const opt = make(), state = opt.initFlat(P);
  const rng = createRng(2);
  const params = Float64Array.from({ length: P }, () => rng.normal());
  const grads = Float64Array.from({ length: P }, () => 1e-3 * rng.normal());
  Deno.bench({
    name: `stepFlat ${name}, ${P} parameters (×${UPDATES})`,
    group: "update",
    baseline: name === "sgd",
    fn() {
      for (let i = 0; i < UPDATES; i++) opt.stepFlat(params, grads, state);
    },
  });
}

// The pulsar set's shape (3,278 × 8, two classes), with seeded normal features.
const rng = createRng(1);
const X = Matrix.zeros(3278, 8);
for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
const Y = oneHot(Array.from({ length: X.rows }, () => rng.randint(2)), 2);

const STEPS = 1000;
for (const name of ["sgd", "adam"]) {
  Deno.bench({
    name: `train ${name}, seed config (×${STEPS} steps)`,
    group: "step",
    baseline: name === "sgd",
    n: 5,
    warmup: 1,
    async fn() {
      const r = await train({
        params: initMLP([8, 25, 10, 2], createRng(0)),
        X,
        Y,
        optimizer: optimizers[name](),
        steps: STEPS,
        threads: 1,
      });
      if (r.status !== "ok") throw new Error(`training ${r.status}`);
    },
  });
}
