// Measures memory over a long seed-config run: the live heap (after a full GC) at each log, and
// the highest RSS seen. Run: deno run --allow-read --v8-flags=--expose-gc scripts/memory.ts

import { parseArgs } from "node:util";
import { oneHot, parseLabeledCsv } from "../lib/data/csv.ts";
import { initMLP } from "../lib/nn/mlp.ts";
import { createRng } from "../lib/random.ts";
import { train } from "../lib/train/train.ts";

const gc = (globalThis as { gc?: () => void }).gc;

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      steps: { type: "string", default: "10000" },
      data: { type: "string", default: "data/pulsars_tuned.csv" },
    },
  });
  const steps = Number(values.steps);
  if (!Number.isInteger(steps) || steps < 1000) {
    console.error(`--steps must be an integer of at least 1000, got ${values.steps}`);
    Deno.exit(2);
  }
  const data = parseLabeledCsv(Deno.readTextFileSync(values.data), { source: values.data });
  const X = data.X, Y = oneHot(data.labels, 2);
  const params = initMLP([8, 25, 10, 2], createRng(0));
  if (gc === undefined) {
    console.error("Run with --v8-flags=--expose-gc so the heap is measured after a full GC");
    Deno.exit(2);
  }
  const heap: { step: number; heapMiB: number }[] = [];
  let rss = 0;
  await train({
    params,
    X,
    Y,
    steps,
    workers: 1,
    logEvery: 1000,
    onLog: ({ step }) => {
      gc();
      const usage = Deno.memoryUsage();
      rss = Math.max(rss, usage.rss);
      heap.push({ step, heapMiB: usage.heapUsed / 2 ** 20 });
    },
  });
  const first = heap[0].heapMiB, last = heap.at(-1)!.heapMiB;
  const max = Math.max(...heap.map((h) => h.heapMiB));
  console.log(heap.map((h) => `step ${h.step}: heap ${h.heapMiB.toFixed(2)} MiB`).join("\n"));
  console.log(
    `heap at step ${heap[0].step}: ${first.toFixed(2)} MiB, at step ${steps}: ${last.toFixed(2)} ` +
      `MiB, highest ${max.toFixed(2)} MiB; highest RSS ${(rss / 2 ** 20).toFixed(1)} MiB`,
  );
}
