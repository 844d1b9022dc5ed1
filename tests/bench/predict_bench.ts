// Rows per second of deno task predict's core, parsing included: predictCsv over 200,000
// generated candidate rows (HTRU2-like numbers, 8 columns) to a writer that encodes each
// chunk as the task does but keeps nothing. Issue 14 asks for at least 200,000 rows/s on one
// core, so one iteration must take at most 1 s. `deno task bench` runs it (its
// `--allow-write=tests/bench/.tmp` is for the generated file, removed afterwards); alone:
//   deno task bench tests/bench/predict_bench.ts
// (without write permission to that folder the bench is skipped).

import { createRng, initMLP, parseScoringModel, predictCsv, serializeModel } from "../../mod.ts";

const ROWS = 200_000;
const TMP = new URL("./.tmp/", import.meta.url);
const canWrite = Deno.permissions.querySync({ name: "write", path: TMP }).state === "granted";
let path = "";
if (canWrite) {
  await Deno.mkdir(TMP, { recursive: true });
  path = await Deno.makeTempFile({ dir: TMP.pathname, prefix: "predict_bench_", suffix: ".csv" });
  const rng = createRng(0);
  const lines: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    // Like the HTRU2 file: up to ~17 significant digits, magnitudes from 0.1 to 100.
    lines.push(Array.from({ length: 8 }, (_, j) => rng.normal() * 10 ** (j % 3 + 0.5)).join(","));
  }
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  globalThis.addEventListener("unload", () => Deno.removeSync(path));
}
const sizes = [8, 25, 10, 2];
const model = parseScoringModel(
  serializeModel(sizes, initMLP(sizes, createRng(1)), {
    mean: Array(8).fill(1),
    std: Array(8).fill(2),
  }),
);
const encoder = new TextEncoder();

Deno.bench({
  name:
    `predictCsv: ${ROWS} rows, 8-25-10-2, parse + scale + forward + format (≤ 1 s for 200k rows/s)`,
  ignore: !canWrite,
  n: 5,
  warmup: 1,
  async fn() {
    let bytes = 0;
    await predictCsv(model, path, {
      write: (text) => {
        bytes += encoder.encode(text).length;
      },
      header: false,
    });
    if (bytes === 0) throw new Error("nothing written");
  },
});

// The practitioner's kind of model (deno task cv --save-model): every input log-transformed,
// then scaled; a logits output read as a probability against a threshold.
const practitioner = parseScoringModel(
  `{"output": "logits", "threshold": 0.7, "logColumns": [0, 1, 2, 3, 4, 5, 6, 7],` +
    serializeModel(sizes, initMLP(sizes, createRng(2)), {
      mean: Array(8).fill(1),
      std: Array(8).fill(2),
    }).slice(1),
);

Deno.bench({
  name: `predictCsv: ${ROWS} rows, practitioner model (log columns, logits, threshold)`,
  ignore: !canWrite,
  n: 5,
  warmup: 1,
  async fn() {
    let bytes = 0;
    await predictCsv(practitioner, path, {
      write: (text) => {
        bytes += encoder.encode(text).length;
      },
      header: false,
    });
    if (bytes === 0) throw new Error("nothing written");
  },
});
