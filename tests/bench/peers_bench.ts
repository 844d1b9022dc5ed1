// Benchmarks of one SGD training step, ours (float64) against TF.js 4.22 (float32, wasm and cpu).
//
// One step = forward + backward + SGD update (lr 0.01) of a tanh MLP's mean squared error on a
// random batch, both sides starting from the same parameters. TF.js lives only here, never in
// lib/. Its wasm backend reads its .wasm binary from Deno's npm cache: that needs --allow-read.

import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import { createRng, initMLP, Matrix, mseLoss, valueAndGrad } from "../../mod.ts";
import { kernelBackend } from "../../lib/_kernels.ts";
import { withScratch } from "../../lib/autograd/ops.ts";

const LR = 0.01;
const PEERS = ["wasm", "cpu"] as const;
type Peer = typeof PEERS[number];

interface Config {
  name: string;
  sizes: number[];
  batch: number;
  /** Fixed iteration counts where a step takes long enough for a few to give a stable mean. */
  n?: number;
  warmup?: number;
}

const configs: Config[] = [
  { name: "seed 8-25-10-2, batch 100", sizes: [8, 25, 10, 2], batch: 100 },
  { name: "large 8-256-256-2, batch 1000", sizes: [8, 256, 256, 2], batch: 1000, n: 10, warmup: 2 },
];

// Production mode skips TF.js's debug checks (and its "install tfjs-node" notice): its fast path.
tf.enableProdMode();
for (const peer of PEERS) {
  if (!await tf.setBackend(peer)) throw new Error(`TF.js backend ${peer} failed to initialise`);
}

/** A random batch: normal features, one-hot targets. */
function batch(sizes: number[], size: number, seed: number): [Matrix, Matrix] {
  const rng = createRng(seed), outputs = sizes[sizes.length - 1];
  const X = Matrix.zeros(size, sizes[0]), Y = Matrix.zeros(size, outputs);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  for (let i = 0; i < size; i++) Y.data[i * outputs + rng.randint(outputs)] = 1;
  return [X, Y];
}

const lossAndGrad = valueAndGrad(mseLoss);

/**
 * Our step as `train()` takes it: the public autograd's loss and gradient with intermediates in
 * reused scratch memory (as TF.js frees its own in `tf.tidy`), then SGD in place.
 */
function ourStep(params: Matrix[], X: Matrix, Y: Matrix): number {
  return withScratch(() => {
    const [loss, grads] = lossAndGrad(params, X, Y);
    for (let i = 0; i < params.length; i++) {
      const p = params[i].data, g = (grads[i] as Matrix).data;
      for (let j = 0; j < p.length; j++) p[j] -= LR * g[j];
    }
    return typeof loss === "number" ? loss : loss.data[0];
  });
}

/** A matrix's entries rounded to float32, the only float type TF.js has. */
const f32 = (m: Matrix) => Float32Array.from(m.data);

/** The same network in TF.js's own layout (samples × features, W as in × out), float32. */
class PeerStep {
  readonly #vars: tf.Variable[];
  readonly #X: tf.Tensor2D;
  readonly #Y: tf.Tensor2D;
  readonly #optimizer = tf.train.sgd(LR);

  constructor(readonly backend: Peer, params: Matrix[], X: Matrix, Y: Matrix) {
    if (tf.getBackend() !== backend) throw new Error(`PeerStep: backend ${backend} is not active`);
    this.#vars = params.map((p, i) =>
      i % 2 === 0
        ? tf.variable(tf.tidy(() => tf.tensor2d(f32(p), p.shape).transpose()))
        : tf.variable(tf.tensor1d(f32(p)))
    );
    this.#X = tf.tensor2d(f32(X), X.shape);
    this.#Y = tf.tensor2d(f32(Y), Y.shape);
  }

  #loss = (): tf.Scalar => {
    let h: tf.Tensor = this.#X;
    for (let l = 0; l < this.#vars.length; l += 2) {
      h = tf.tanh(tf.add(tf.matMul(h, this.#vars[l]), this.#vars[l + 1]));
    }
    return tf.mean(tf.squaredDifference(h, this.#Y));
  };

  /** One step; reading the loss back forces the work to finish before the clock stops. */
  run(): number {
    return tf.tidy(() => this.#optimizer.minimize(this.#loss, true, this.#vars)!.dataSync()[0]);
  }

  /** The parameters in our layout, for checking that both sides computed the same step. */
  params(): Float32Array[] {
    return this.#vars.map((v, i) =>
      tf.tidy(() => (i % 2 === 0 ? v.transpose() : v).dataSync() as Float32Array)
    );
  }
}

/**
 * Checks that a peer's first step matches ours (to float32 precision): the same loss and the
 * same updated parameters, so the timings compare the same computation; and that a further
 * step keeps no tensors.
 */
function checkSameStep(name: string, ours: Matrix[], oursLoss: number, peer: PeerStep): void {
  const loss = peer.run();
  if (Math.abs(loss - oursLoss) > 1e-5 * Math.abs(oursLoss)) {
    throw new Error(`${name}: TF.js ${peer.backend} loss ${loss}, ours ${oursLoss}`);
  }
  peer.params().forEach((p, i) => {
    const q = ours[i].data;
    for (let j = 0; j < p.length; j++) {
      if (Math.abs(p[j] - q[j]) > 1e-5) {
        throw new Error(
          `${name}: TF.js ${peer.backend} parameter ${i}[${j}] = ${p[j]}, ours ${q[j]}`,
        );
      }
    }
  });
  // A tensor left over per step would make later steps slower and memory grow.
  const tensors = tf.memory().numTensors;
  peer.run();
  if (tf.memory().numTensors !== tensors) throw new Error(`${name}: TF.js ${peer.backend} leaks`);
}

for (const config of configs) {
  const { name: group, n, warmup } = config;
  const [X, Y] = batch(config.sizes, config.batch, 1);
  const params = initMLP(config.sizes, createRng(0));
  const peers = [];
  for (const peer of PEERS) {
    await tf.setBackend(peer);
    peers.push(new PeerStep(peer, params, X, Y));
  }
  const oursLoss = ourStep(params, X, Y);
  for (const peer of peers) {
    await tf.setBackend(peer.backend);
    checkSameStep(group, params, oursLoss, peer);
  }

  Deno.bench({
    name: `${group}: denograd, float64, 1 thread, ${kernelBackend()} kernels`,
    group,
    baseline: true,
    n,
    warmup,
    fn: () => void ourStep(params, X, Y),
  });
  for (const peer of peers) {
    Deno.bench({
      name: `${group}: TF.js ${peer.backend}, float32`,
      group,
      n,
      warmup,
      async fn() {
        // Switching is instant once both backends are initialised; the variables stay put.
        if (tf.getBackend() !== peer.backend) await tf.setBackend(peer.backend);
        peer.run();
      },
    });
  }
}
