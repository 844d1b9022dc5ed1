// A training worker's entry point: loads the loss module, then computes its shards each step.

/// <reference lib="deno.worker" />

import {
  type Buffers,
  describeError,
  GEN,
  type Message,
  RUNNING,
  SPIN_MS,
  STOP,
} from "./_protocol.ts";
import { importLoss, ShardRunner } from "./_shard.ts";

const post = (message: Message) => self.postMessage(message);
// Clears this worker's running flag; set once the control block arrives.
let checkOut = () => {};

// A worker that ends itself stops at once and the main thread gets no event, so it would wait
// for this worker forever: report first, then leave.
const close = self.close.bind(self);
self.close = () => {
  post({ type: "fault", message: "the worker called self.close()" });
  checkOut();
  close();
};
const exit = Deno.exit;
try {
  Object.defineProperty(Deno, "exit", {
    value: (code?: number) => {
      post({ type: "fault", message: `the worker called Deno.exit(${code ?? ""})` });
      checkOut();
      return exit(code);
    },
  });
} catch {
  // A runtime that freezes Deno.exit: nothing to guard.
}

self.onmessage = async (event: MessageEvent<Message>) => {
  if (event.data.type !== "init") return;
  const { index, buffers, loss } = event.data;
  const control = buffers.control;
  checkOut = () => {
    Atomics.store(control, RUNNING + index, 0);
    Atomics.notify(control, RUNNING + index);
  };
  let runner: ShardRunner;
  try {
    runner = new ShardRunner(buffers, await importLoss(loss), index, `train worker ${index}`);
  } catch (e) {
    post({ type: "fault", message: describeError(e) });
    checkOut();
    return;
  }
  // Read the generation before saying ready: the main thread may start step 1 at once.
  const gen = Atomics.load(control, GEN);
  post({ type: "ready" });
  try {
    serve(runner, buffers, gen);
  } finally {
    checkOut();
  }
};

/** The step loop: sleep until the main thread starts a step, claim and compute shards, repeat. */
function serve(runner: ShardRunner, buffers: Buffers, gen: number): void {
  const control = buffers.control;
  const stopped = () => Atomics.load(control, STOP) !== 0;
  for (;;) {
    // A pool closed while this worker was still loading bumped GEN before we read it: without
    // this check we would wait for a step that never comes.
    if (stopped()) return;
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(control, GEN) === gen && performance.now() < until);
    Atomics.wait(control, GEN, gen);
    if (stopped()) return;
    gen = Atomics.load(control, GEN);
    try {
      if (!runner.work(stopped)) return;
    } catch (e) {
      post({ type: "fault", message: describeError(e) });
      return;
    }
  }
}
