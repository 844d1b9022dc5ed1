// A cross-validation worker's entry point: wraps the shared data once, then runs fold tasks.

/// <reference lib="deno.worker" />

import { Matrix, type SharedMatrixHandle } from "../matrix.ts";
import { type FoldOutcome, type FoldTask, runFoldTask } from "./_cv_models.ts";

/** Main thread → worker: the data once, then one task at a time. */
export type ToCvWorker =
  | { type: "data"; X: SharedMatrixHandle; labels: SharedArrayBuffer }
  | { type: "task"; task: FoldTask };

/** Worker → main thread: a task's outcome, or why it failed. */
export type FromCvWorker =
  | { type: "result"; outcome: FoldOutcome }
  | { type: "error"; id: number; message: string };

let X: Matrix | null = null;
let labels: Int32Array | null = null;

self.onmessage = (event: MessageEvent<ToCvWorker>) => {
  const message = event.data;
  if (message.type === "data") {
    X = Matrix.wrap(message.X);
    labels = new Int32Array(message.labels);
    return;
  }
  const { task } = message;
  let reply: FromCvWorker;
  try {
    if (X === null || labels === null) throw new Error("the worker got a task before the data");
    reply = { type: "result", outcome: runFoldTask(task, X, labels) };
  } catch (e) {
    reply = {
      type: "error",
      id: task.id,
      message: e instanceof Error ? e.stack ?? e.message : String(e),
    };
  }
  self.postMessage(reply);
};
