// One SGD training step (forward + backward + SGD update, lr 0.01, MSE loss of a tanh MLP) of ours
// and of each peer, shared by peers_bench.ts (steady state, `deno bench`) and warmup.ts (the first
// 1,000 steps of a fresh process). The peers live only under tests/bench/, never in lib/: their
// packages are pinned in tests/bench/deno.lock, so the root tasks never fetch them.
//
// TF.js's wasm backend reads its .wasm binary from Deno's npm cache: that needs --allow-read.

import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import * as jax from "npm:@jax-js/jax@0.1.25";
import { createRng, initMLP, Matrix, mseLoss, valueAndGrad } from "../../mod.ts";
import { withScratch } from "../../lib/autograd/ops.ts";

export const LR = 0.01;

export interface Config {
  name: string;
  sizes: number[];
  batch: number;
}

export const SEED: Config = {
  name: "seed 8-25-10-2, batch 100",
  sizes: [8, 25, 10, 2],
  batch: 100,
};
export const LARGE: Config = {
  name: "large 8-256-256-2, batch 1000",
  sizes: [8, 256, 256, 2],
  batch: 1000,
};

/** A random batch: normal features, one-hot targets. */
export function batch(sizes: number[], size: number, seed: number): [Matrix, Matrix] {
  const rng = createRng(seed), outputs = sizes[sizes.length - 1];
  const X = Matrix.zeros(size, sizes[0]), Y = Matrix.zeros(size, outputs);
  for (let i = 0; i < X.data.length; i++) X.data[i] = rng.normal();
  for (let i = 0; i < size; i++) Y.data[i * outputs + rng.randint(outputs)] = 1;
  return [X, Y];
}

/** The parameters, batch and targets every side starts from. */
export function problem(config: Config): { params: Matrix[]; X: Matrix; Y: Matrix } {
  const [X, Y] = batch(config.sizes, config.batch, 1);
  return { params: initMLP(config.sizes, createRng(0)), X, Y };
}

const lossAndGrad = valueAndGrad(mseLoss);

/**
 * Our step as `train()` takes it: the public autograd's loss and gradient with intermediates in
 * reused scratch memory (as TF.js frees its own in `tf.tidy`), then SGD in place.
 */
export function ourStep(params: Matrix[], X: Matrix, Y: Matrix): number {
  return withScratch(() => {
    const [loss, grads] = lossAndGrad(params, X, Y);
    for (let i = 0; i < params.length; i++) {
      const p = params[i].data, g = (grads[i] as Matrix).data;
      for (let j = 0; j < p.length; j++) p[j] -= LR * g[j];
    }
    return typeof loss === "number" ? loss : loss.data[0];
  });
}

/** A peer's step, set up on its own copy of the starting parameters. */
export interface Peer {
  /** As the bench and README name it. */
  readonly name: string;
  /** Float64 or float32. */
  readonly float64: boolean;
  /** How far its first step may be from ours (relative for the loss, absolute for parameters). */
  readonly tolerance: number;
  /** One step; resolves when the step's results (loss and parameters) are computed. */
  run(): number | Promise<number>;
  /** The parameters in our layout (W as in × out, then b), after the steps run so far. */
  params(): Float64Array[] | Float32Array[] | Promise<Float64Array[]>;
}

// Production mode skips TF.js's debug checks (and its "install tfjs-node" notice): its fast path.
tf.enableProdMode();

/** A matrix's entries rounded to float32, the only float type TF.js has. */
const f32 = (m: Matrix) => Float32Array.from(m.data);

/** The same network in TF.js's own layout (samples × features, W as in × out), float32. */
class TfPeer implements Peer {
  readonly float64 = false;
  readonly tolerance = 1e-5;
  readonly name: string;
  readonly #vars: tf.Variable[];
  readonly #X: tf.Tensor2D;
  readonly #Y: tf.Tensor2D;
  readonly #optimizer = tf.train.sgd(LR);

  constructor(readonly backend: "wasm" | "cpu", params: Matrix[], X: Matrix, Y: Matrix) {
    if (tf.getBackend() !== backend) throw new Error(`TfPeer: backend ${backend} is not active`);
    this.name = `TF.js 4.22 ${backend}, float32`;
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

  /** Reading the loss back forces the work to finish before the clock stops. */
  async run(): Promise<number> {
    // Switching is instant once both backends are initialised; the variables stay put.
    if (tf.getBackend() !== this.backend) await tf.setBackend(this.backend);
    return tf.tidy(() => this.#optimizer.minimize(this.#loss, true, this.#vars)!.dataSync()[0]);
  }

  params(): Float32Array[] {
    return this.#vars.map((v, i) =>
      tf.tidy(() => (i % 2 === 0 ? v.transpose() : v).dataSync() as Float32Array)
    );
  }

  /** Tensors alive in TF.js: a step that leaves one behind leaks. */
  static tensors(): number {
    return tf.memory().numTensors;
  }
}

/** Sets up TF.js's backend `backend` (once per process) and a peer on it. */
export async function tfPeer(
  backend: "wasm" | "cpu",
  params: Matrix[],
  X: Matrix,
  Y: Matrix,
): Promise<Peer> {
  if (!await tf.setBackend(backend)) throw new Error(`TF.js backend ${backend} failed to start`);
  return new TfPeer(backend, params, X, Y);
}

type JaxArray = jax.numpy.Array;

/** MSE of the tanh MLP; jax-js's ownership rules: every argument is used (consumed) once. */
function jaxLoss(params: JaxArray[], X: JaxArray, Y: JaxArray): JaxArray {
  let h = X;
  for (let l = 0; l < params.length; l += 2) {
    h = jax.numpy.tanh(jax.numpy.matmul(h, params[l]).add(params[l + 1]));
  }
  return jax.numpy.square(h.sub(Y)).mean();
}

const jaxLossAndGrad = jax.valueAndGrad(jaxLoss);

/** One step as a pure function: (params, X, Y) → [loss, updated params]. */
function jaxStep(params: JaxArray[], X: JaxArray, Y: JaxArray): [JaxArray, JaxArray[]] {
  const [loss, grads] = jaxLossAndGrad(params.map((p) => p.ref), X, Y);
  return [loss, params.map((p, i) => p.sub(grads[i].mul(LR)))];
}

let jaxStarted = false;

/** jax-js (JAX in JavaScript) on its Wasm device, float64 or float32, eager or under `jit`. */
class JaxPeer implements Peer {
  readonly name: string;
  /**
   * Float32's, and 1e-6 for float64 too: jax-js 0.1.25's float64 `tanh` and `exp` on Wasm are
   * float32-grade approximations (errors ~1e-8 against Math.tanh; its float64 matmul is exact), so
   * its float64 step differs from ours by ~1e-8 relative.
   */
  readonly tolerance: number;
  #params: JaxArray[];
  readonly #X: JaxArray;
  readonly #Y: JaxArray;
  readonly #step: (params: JaxArray[], X: JaxArray, Y: JaxArray) => [JaxArray, JaxArray[]];

  constructor(readonly float64: boolean, useJit: boolean, params: Matrix[], X: Matrix, Y: Matrix) {
    this.tolerance = float64 ? 1e-6 : 1e-5;
    this.name = `jax-js 0.1.25 wasm, ${float64 ? "float64" : "float32"}${useJit ? ", jit" : ""}`;
    const dtype = float64 ? jax.numpy.float64 : jax.numpy.float32;
    const array = (m: Matrix, shape: number[]) =>
      jax.numpy.array(float64 ? Float64Array.from(m.data) : f32(m), { dtype }).reshape(shape);
    // Our W is out × in (h·Wᵀ); jax-js gets in × out, like TF.js.
    this.#params = params.map((p, i) =>
      i % 2 === 0 ? array(p, p.shape).transpose() : array(p, [p.data.length])
    );
    this.#X = array(X, X.shape);
    this.#Y = array(Y, Y.shape);
    this.#step = useJit ? jax.jit(jaxStep) : jaxStep;
  }

  /** Reads the loss back and waits for the updated parameters: the whole step has finished. */
  async run(): Promise<number> {
    const [loss, params] = this.#step(this.#params, this.#X.ref, this.#Y.ref);
    this.#params = params;
    const value = loss.dataSync()[0] as number;
    await jax.blockUntilReady(params);
    return value;
  }

  params(): Float64Array[] {
    return this.#params.map((p, i) =>
      Float64Array.from((i % 2 === 0 ? p.ref.transpose() : p.ref).dataSync() as ArrayLike<number>)
    );
  }
}

/** Starts jax-js's Wasm device (once per process) and sets up a peer on it. */
export async function jaxPeer(
  float64: boolean,
  useJit: boolean,
  params: Matrix[],
  X: Matrix,
  Y: Matrix,
): Promise<Peer> {
  if (!jaxStarted) {
    const devices = await jax.init("wasm");
    if (!devices.includes("wasm")) throw new Error(`jax-js: no wasm device (got ${devices})`);
    jax.defaultDevice("wasm");
    jaxStarted = true;
  }
  return new JaxPeer(float64, useJit, params, X, Y);
}

/** Every peer's name as warmup.ts takes it, and how to set it up. */
export const PEERS: Record<
  string,
  (params: Matrix[], X: Matrix, Y: Matrix) => Promise<Peer>
> = {
  "tfjs-wasm": (p, X, Y) => tfPeer("wasm", p, X, Y),
  "tfjs-cpu": (p, X, Y) => tfPeer("cpu", p, X, Y),
  "jax-f64": (p, X, Y) => jaxPeer(true, false, p, X, Y),
  "jax-f64-jit": (p, X, Y) => jaxPeer(true, true, p, X, Y),
  "jax-f32": (p, X, Y) => jaxPeer(false, false, p, X, Y),
  "jax-f32-jit": (p, X, Y) => jaxPeer(false, true, p, X, Y),
};

/**
 * Checks that a peer's first step matches ours: the same loss and the same updated parameters
 * (within the peer's tolerance), so the timings compare the same computation; and, for TF.js,
 * that a further step keeps no tensors.
 */
export async function checkSameStep(
  group: string,
  ours: Matrix[],
  oursLoss: number,
  peer: Peer,
): Promise<void> {
  const tol = peer.tolerance;
  const loss = await peer.run();
  if (!(Math.abs(loss - oursLoss) <= tol * Math.abs(oursLoss))) {
    throw new Error(`${group}: ${peer.name} loss ${loss}, ours ${oursLoss}`);
  }
  (await peer.params()).forEach((p, i) => {
    const q = ours[i].data;
    if (p.length !== q.length) throw new Error(`${group}: ${peer.name} parameter ${i} size`);
    for (let j = 0; j < p.length; j++) {
      if (!(Math.abs(p[j] - q[j]) <= tol)) {
        throw new Error(`${group}: ${peer.name} parameter ${i}[${j}] = ${p[j]}, ours ${q[j]}`);
      }
    }
  });
  if (peer instanceof TfPeer) {
    const tensors = TfPeer.tensors();
    await peer.run();
    if (TfPeer.tensors() !== tensors) throw new Error(`${group}: ${peer.name} leaks`);
  }
}
