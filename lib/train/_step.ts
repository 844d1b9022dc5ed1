// The step interface, served by the in-process runner here and by the worker pool in _pool.ts
// (which also holds openStepRunner, the choice between the two).

import type { ShardRunner } from "./_shard.ts";

/**
 * Computes the gradient of one batch: the caller writes the batch's row indices (and the
 * parameters) into the run's `Buffers` (see _protocol.ts); `step` leaves the summed batch gradient in
 * slab 0 and the weighted shard losses in `losses`. It returns false (possibly through a
 * promise) when the run's signal aborted the step before it completed; awaiting only when it
 * returns a promise keeps the in-process step free of microtasks. Always `close` it.
 */
export interface StepRunner {
  /** The shard runner of the main thread (whose `params` view the live parameters). */
  readonly local: ShardRunner;
  step(step: number): boolean | Promise<boolean>;
  close(): Promise<void>;
}

/** Options of a step runner that uses workers. */
export interface StepRunnerOptions {
  /** URL of the loss module, which each worker imports. */
  lossUrl: string;
  signal?: AbortSignal;
  /** Milliseconds a step may take before the run rejects, naming the worker still at work. */
  stepTimeout?: number;
}

/** All shards on the calling thread: no workers, no waiting. */
export class InProcessRunner implements StepRunner {
  constructor(readonly local: ShardRunner) {}

  step(): boolean {
    this.local.reset();
    this.local.work();
    return true;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
