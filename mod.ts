// denograd's public API: a functional autograd over shared Float64 matrices, and its trainer.

export { Matrix, type MatrixOptions, type SharedMatrixHandle } from "./lib/matrix.ts";
export { type Tensor, Traced, type Value } from "./lib/autograd/tracer.ts";
export {
  add,
  broadcastTo,
  div,
  exp,
  log,
  matmul,
  mean,
  mul,
  neg,
  pow,
  type ReduceOptions,
  square,
  sub,
  sum,
  tanh,
  transpose,
} from "./lib/autograd/ops.ts";
export { type Grad, grad, jvp, type Tree, valueAndGrad, vjp } from "./lib/autograd/transforms.ts";
export { createRng, type Rng } from "./lib/nn/rng.ts";
export { initMLP, type InitOptions, mlpForward, mseLoss } from "./lib/nn/mlp.ts";
