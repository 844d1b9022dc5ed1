// The parameter update applied once per step to the summed batch gradient: plain SGD for now.

/**
 * An update of the flat parameters from the flat batch gradient of step `step` (1-based),
 * in place. The trainer applies it once per step, after the shard gradients are summed in
 * their fixed order, so any update keeps runs bit-identical across thread counts. An
 * optimizer with state (`update(grads, state, params)`, as in Optax) fits behind it by
 * closing over its state.
 */
export type Update = (params: Float64Array, grads: Float64Array, step: number) => void;

/** Plain SGD, `p -= lr * g` element by element: the trainer's arithmetic since the start. */
export function sgdStep(params: Float64Array, grads: Float64Array, lr: number): void {
  for (let i = 0; i < params.length; i++) params[i] -= lr * grads[i];
}

/** {@linkcode sgdStep} at a fixed learning rate, as an {@linkcode Update}. */
export function sgd(lr: number): Update {
  return (params, grads) => sgdStep(params, grads, lr);
}
