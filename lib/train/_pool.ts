// The worker pool: persistent workers serving the step interface, the barrier, faults, timeouts.

import {
  type Buffers,
  busySlot,
  FINISHED,
  GEN,
  type Message,
  RUNNING,
  SPIN_MS,
  STOP,
} from "./_protocol.ts";
import { type LossFn, ShardRunner } from "./_shard.ts";
import { InProcessRunner, type StepRunner, type StepRunnerOptions } from "./_step.ts";

// How long close() waits for workers to leave their loop before terminating them anyway.
const STOP_TIMEOUT_MS = 500;

// Buffers of pools that may still have running workers (see runningWorkers).
const runs = new Set<Buffers>();

/**
 * @internal For tests: workers of any pool that have not yet left their step loop (each
 * worker clears its own flag in shared memory, so this counts threads, not bookkeeping).
 */
export function runningWorkers(): number {
  let running = 0;
  for (const buffers of runs) {
    let n = 0;
    for (let i = 1; i < buffers.threads; i++) n += Atomics.load(buffers.control, RUNNING + i);
    if (n === 0) runs.delete(buffers);
    running += n;
  }
  return running;
}

/**
 * Workers `1..threads-1` over the shared {@linkcode Buffers}; the main thread is thread 0 and
 * computes its own shards in {@linkcode WorkerPool.step}. Always {@linkcode close} it.
 */
export class WorkerPool implements StepRunner {
  readonly #buffers: Buffers;
  readonly local: ShardRunner;
  readonly #options: StepRunnerOptions;
  readonly #workers: Worker[] = [];
  #fault: Error | undefined;
  #aborted = false;
  #interrupt: () => void = () => {};
  // Settles at the first worker fault or abort; raced against every wait.
  readonly #interrupted: Promise<void>;
  readonly #onAbort = () => {
    this.#aborted = true;
    this.#interrupt();
  };
  #phase = "while starting";
  // Workers that have loaded the loss module and entered their step loop.
  readonly #loaded = new Set<number>();

  constructor(buffers: Buffers, local: ShardRunner, options: StepRunnerOptions) {
    this.#buffers = buffers;
    this.local = local;
    this.#options = options;
    this.#interrupted = new Promise<void>((resolve) => this.#interrupt = resolve);
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
    if (options.signal?.aborted) this.#onAbort();
  }

  /** Starts the workers and waits until each has loaded the loss module (or an abort). */
  async start(): Promise<void> {
    const loaded = this.#loaded;
    const ready: Promise<void>[] = [];
    runs.add(this.#buffers);
    for (let index = 1; index < this.#buffers.threads; index++) {
      ready.push(
        new Promise((resolve) =>
          this.#spawn(index, () => {
            loaded.add(index);
            resolve();
          })
        ),
      );
    }
    // stepTimeout bounds loading too: a module that never finishes loading is a stuck worker.
    const timeout = this.#options.stepTimeout;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      if (timeout !== undefined) timer = setTimeout(resolve, timeout);
    });
    try {
      await Promise.race([Promise.all(ready), this.#interrupted, late]);
    } finally {
      clearTimeout(timer);
    }
    if (this.#fault) throw this.#fault;
    if (this.#aborted || loaded.size === this.#workers.length) return;
    const missing = this.#workers.map((_, i) => i + 1).filter((i) => !loaded.has(i));
    const names = missing.map((i) => `worker ${i} of ${this.#workers.length}`).join(", ");
    throw new Error(
      `train: ${names} did not load the loss module within stepTimeout (${timeout} ms)`,
    );
  }

  #spawn(index: number, ready: () => void): void {
    const control = this.#buffers.control;
    const worker = new Worker(new URL("./worker.ts", import.meta.url), {
      type: "module",
      name: `train-worker-${index}`,
    });
    this.#workers.push(worker);
    Atomics.store(control, RUNNING + index, 1);
    worker.onmessage = (e: MessageEvent<Message>) => {
      if (e.data.type === "ready") ready();
      else if (e.data.type === "fault") this.#onFault(index, e.data.message);
    };
    worker.onerror = (e) => {
      e.preventDefault(); // an uncaught worker error would otherwise end the main thread
      Atomics.store(control, RUNNING + index, 0); // the worker is gone
      this.#onFault(index, e.message);
    };
    worker.onmessageerror = () => this.#onFault(index, "a message could not be deserialised");
    const init: Message = {
      type: "init",
      index,
      buffers: this.#buffers,
      loss: this.#options.lossUrl,
    };
    worker.postMessage(init);
  }

  /**
   * One step: releases the workers (the batch indices and parameters are already in shared
   * memory), claims and computes shards alongside them, then waits until the batch gradient
   * is complete in slab 0. Rejects if a worker faults or the step outlasts `stepTimeout`;
   * returns false if the signal aborts first.
   */
  async step(step: number): Promise<boolean> {
    if (this.#fault) throw this.#fault;
    if (this.#aborted) return false;
    this.#phase = `at step ${step}`;
    const { control } = this.#buffers, timeout = this.#options.stepTimeout;
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    this.local.reset();
    Atomics.add(control, GEN, 1);
    Atomics.notify(control, GEN);
    this.local.work();
    // Every shard is claimed; wait for the thread that completes the last node of the tree.
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(control, FINISHED) === 0 && performance.now() < until);
    while (Atomics.load(control, FINISHED) === 0) {
      if (this.#fault) throw this.#fault;
      if (this.#aborted) return false;
      const left = deadline - performance.now();
      if (left <= 0) throw this.#timedOut(step, timeout!);
      // The event loop keeps running while we wait, so faults and aborts are seen at once.
      const wait = Atomics.waitAsync(control, FINISHED, 0, left === Infinity ? undefined : left);
      if (wait.async) await Promise.race([wait.value, this.#interrupted]);
    }
    return true;
  }

  #timedOut(step: number, timeout: number): Error {
    const busy: string[] = [];
    for (let i = 1; i < this.#buffers.threads; i++) {
      const shard = Atomics.load(this.#buffers.control, busySlot(this.#buffers, i));
      if (shard > 0) busy.push(`worker ${i} of ${this.#buffers.threads - 1} (shard ${shard - 1})`);
    }
    const who = busy.length > 0 ? busy.join(", ") : "no worker reports a shard in progress";
    return new Error(
      `train: step ${step} did not finish within stepTimeout (${timeout} ms): ${who}`,
    );
  }

  /**
   * Stops every worker: raises the cooperative stop flag (`terminate` alone does not stop a
   * worker blocked in `Atomics.wait`), waits up to {@linkcode STOP_TIMEOUT_MS} for each to
   * leave its step loop (a busy one finishes its current shard first), then terminates.
   */
  async close(): Promise<void> {
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
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
    for (const [i, worker] of this.#workers.entries()) {
      worker.terminate();
      // One still loading its module never entered the step loop; terminate() stops it unless
      // the module itself is busy in a loop as it loads, which the flag cannot tell apart.
      if (!this.#loaded.has(i + 1)) Atomics.store(control, RUNNING + i + 1, 0);
    }
    this.#workers.length = 0;
  }

  #onFault(index: number, message: string): void {
    if (this.#fault) return;
    this.#fault = new Error(
      `train: worker ${index} of ${this.#buffers.threads - 1} failed ${this.#phase}: ${message}`,
    );
    this.#interrupt();
  }
}

/**
 * The step runner for `buffers.threads` threads: in-process for one, else a started
 * {@linkcode WorkerPool} whose main thread computes shards too.
 */
export async function openStepRunner(
  buffers: Buffers,
  loss: LossFn,
  options: StepRunnerOptions,
): Promise<StepRunner> {
  const local = new ShardRunner(buffers, loss, 0, "train");
  if (buffers.threads === 1) return new InProcessRunner(local);
  const pool = new WorkerPool(buffers, local, options);
  try {
    await pool.start();
  } catch (e) {
    await pool.close();
    throw e;
  }
  return pool;
}
