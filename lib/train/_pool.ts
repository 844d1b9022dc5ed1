// The main thread's side of the data-parallel step: persistent workers, the barrier and faults.

import {
  type Buffers,
  FINISHED,
  type FromWorker,
  GEN,
  RUNNING,
  type ShardRunner,
  SPIN_MS,
  STOP,
  type ToWorker,
} from "./_shard.ts";

// How long close() waits for workers to leave their loop before terminating them anyway.
const STOP_TIMEOUT_MS = 500;

// Control blocks of pools that may still have running workers (see runningWorkers).
const controls = new Set<Int32Array>();

/**
 * @internal For tests: workers of any pool that have not yet left their step loop (each
 * worker clears its own flag in shared memory, so this counts threads, not bookkeeping).
 */
export function runningWorkers(): number {
  let running = 0;
  for (const control of controls) {
    let n = 0;
    for (let slot = RUNNING + 1; slot < control.length; slot++) n += Atomics.load(control, slot);
    if (n === 0) controls.delete(control);
    running += n;
  }
  return running;
}

/**
 * Workers `1..threads-1` over the shared {@linkcode Buffers}; the main thread is thread 0 and
 * computes its own micro-shards in {@linkcode WorkerPool.step}. Always {@linkcode close} it.
 */
export class WorkerPool {
  readonly #buffers: Buffers;
  readonly #threads: number;
  readonly #loss: string;
  readonly #workers: Worker[] = [];
  #fault: Error | undefined;
  #rejectFault: (e: Error) => void = () => {};
  // Settles (rejects) at the first worker fault; raced against every wait.
  readonly #faulted: Promise<never>;
  #phase = "while starting";

  constructor(buffers: Buffers, threads: number, loss: string) {
    this.#buffers = buffers;
    this.#threads = threads;
    this.#loss = loss;
    this.#faulted = new Promise<never>((_, reject) => this.#rejectFault = reject);
    this.#faulted.catch(() => {}); // observed through #fault when nobody is racing it
  }

  /** Starts the workers and waits until each has loaded the loss module. */
  async start(): Promise<void> {
    const ready: Promise<void>[] = [];
    const control = this.#buffers.control;
    controls.add(control);
    for (let index = 1; index < this.#threads; index++) {
      const worker = new Worker(new URL("./worker.ts", import.meta.url), {
        type: "module",
        name: `train-worker-${index}`,
      });
      this.#workers.push(worker);
      Atomics.store(control, RUNNING + index, 1);
      ready.push(
        new Promise((resolve) => {
          worker.onmessage = (e: MessageEvent<FromWorker>) => {
            if (e.data.type === "ready") resolve();
            else this.#onFault(index, e.data.message);
          };
        }),
      );
      worker.onerror = (e) => {
        e.preventDefault(); // an uncaught worker error would otherwise end the main thread
        Atomics.store(control, RUNNING + index, 0); // the worker is gone
        this.#onFault(index, e.message);
      };
      worker.onmessageerror = () => this.#onFault(index, "a message could not be deserialised");
      const init: ToWorker = {
        type: "init",
        index,
        buffers: this.#buffers,
        loss: this.#loss,
      };
      worker.postMessage(init);
    }
    await Promise.race([Promise.all(ready), this.#faulted]);
  }

  /**
   * One step: releases the workers (the batch indices and parameters are already in shared
   * memory), claims and computes micro-shards alongside them, then waits until the batch
   * gradient is complete in slab 0. Rejects if a worker faults.
   */
  async step(runner: ShardRunner, step: number): Promise<void> {
    if (this.#fault) throw this.#fault;
    this.#phase = `at step ${step}`;
    const control = this.#buffers.control;
    runner.reset();
    Atomics.add(control, GEN, 1);
    Atomics.notify(control, GEN);
    runner.work();
    // Every shard is claimed; wait for the thread that completes the last node of the tree.
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(control, FINISHED) === 0 && performance.now() < until);
    while (Atomics.load(control, FINISHED) === 0) {
      if (this.#fault) throw this.#fault;
      // The event loop keeps running while we wait, so worker errors are seen at once.
      const wait = Atomics.waitAsync(control, FINISHED, 0);
      if (wait.async) await Promise.race([wait.value, this.#faulted]);
    }
  }

  /**
   * Stops every worker: raises the cooperative stop flag (`terminate` alone does not stop a
   * worker blocked in `Atomics.wait`), waits up to {@linkcode STOP_TIMEOUT_MS} for each to
   * leave its step loop (a busy one finishes its current micro-shard first), then terminates.
   */
  async close(): Promise<void> {
    const control = this.#buffers.control;
    Atomics.store(control, STOP, 1);
    Atomics.add(control, GEN, 1);
    Atomics.notify(control, GEN);
    Atomics.notify(control, FINISHED); // settle our own pending waitAsync, if a fault left one
    const deadline = performance.now() + STOP_TIMEOUT_MS;
    for (let index = 1; index <= this.#workers.length; index++) {
      for (;;) {
        const left = deadline - performance.now();
        if (Atomics.load(control, RUNNING + index) === 0 || left <= 0) break;
        const wait = Atomics.waitAsync(control, RUNNING + index, 1, left);
        if (wait.async) await wait.value;
      }
    }
    for (const worker of this.#workers) worker.terminate();
    this.#workers.length = 0;
  }

  #onFault(index: number, message: string): void {
    if (this.#fault) return;
    this.#fault = new Error(
      `train: worker ${index} of ${this.#threads - 1} failed ${this.#phase}: ${message}`,
    );
    this.#rejectFault(this.#fault);
  }
}
