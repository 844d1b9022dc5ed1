// A cross-validation worker's entry point: wraps the shared data once, then runs fold tasks.

/// <reference lib="deno.worker" />

import { Matrix } from "../matrix.ts";
import { type FromCvWorker, runFoldTask, type ToCvWorker } from "./_cv_models.ts";

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
