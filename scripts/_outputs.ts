// What a run leaves in its output folder: metrics.json, model.json and loss.svg, written atomically.

import { basename, join } from "node:path";
import { writeFileAtomic } from "../lib/_fs.ts";
import type { ExperimentConfig, ExperimentResult, TrainMetrics } from "../lib/experiment.ts";
import { serializeModel } from "../lib/nn/model_io.ts";
import { renderLossSvg } from "./_loss_svg.ts";

/**
 * The files of one run, in the order they are written: loss.svg, model.json (absent when
 * training diverged), then metrics.json last, as it is the record of the run.
 *
 * @example
 * ```ts
 * import { outputFiles } from "./_outputs.ts";
 * import { EXPERIMENT_DEFAULTS, parseLabeledCsv, runExperiment } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const data = parseLabeledCsv("a,label\n0,0\n1,1\n");
 * const config = { ...EXPERIMENT_DEFAULTS, data: "t.csv", layers: [1, 2], steps: 2, workers: 1 };
 * const files = outputFiles(await runExperiment(config, { data }));
 * assert.deepEqual(files.map(([name]) => name), ["loss.svg", "model.json", "metrics.json"]);
 * ```
 */
export function outputFiles(result: ExperimentResult): [name: string, text: string][] {
  const files: [string, string][] = [["loss.svg", lossSvg(result.metrics)]];
  const { model } = result;
  if (model) {
    files.push(["model.json", serializeModel(model.sizes, model.params, model.standardizer)]);
  }
  files.push(["metrics.json", formatJson(result.metrics)]);
  return files;
}

/**
 * Writes {@linkcode outputFiles} into `dir`, each atomically. A diverged run removes an older
 * model.json there, which would not match this run's record. Returns the paths written.
 *
 * @example
 * ```ts
 * import { writeOutputs } from "./_outputs.ts";
 * import { EXPERIMENT_DEFAULTS, parseLabeledCsv, runExperiment } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const data = parseLabeledCsv("a,label\n0,0\n1,1\n");
 * const config = { ...EXPERIMENT_DEFAULTS, data: "t.csv", layers: [1, 2], steps: 2, workers: 1 };
 * const dir = await Deno.makeTempDir();
 * const paths = await writeOutputs(dir, await runExperiment(config, { data }));
 * assert.equal(paths.length, 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeOutputs(dir: string, result: ExperimentResult): Promise<string[]> {
  if (result.model === null) {
    await Deno.remove(join(dir, "model.json")).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  const paths: string[] = [];
  for (const [name, text] of outputFiles(result)) {
    await writeFileAtomic(join(dir, name), text);
    paths.push(join(dir, name));
  }
  return paths;
}

/** loss.svg: the loss curve titled with the network and the run's settings. */
function lossSvg(metrics: TrainMetrics): string {
  const config: ExperimentConfig = metrics.config;
  const { workers, divergedAt } = metrics.training;
  const features = config.standardize ? "standardized features" : "raw features";
  const heldOut = config.testFraction > 0
    ? `, ${+(config.testFraction * 100).toPrecision(6)}% held out`
    : "";
  return renderLossSvg(metrics.training.loss, {
    title: `Training loss: ${config.layers.join("-")} tanh MLP`,
    subtitle: `${basename(config.data)} · seed ${config.seed} · lr ${config.lr} · ` +
      `batch ${config.batch} · ${config.steps} steps · ` +
      `${workers} worker${workers === 1 ? "" : "s"} · ${features}${heldOut}`,
    yLabel: "batch MSE after the update",
    divergedAt,
  });
}

/**
 * JSON indented by two spaces like `JSON.stringify(value, null, 2)`, except that an array or
 * object holding no arrays or objects stays on one line when it fits in 100 characters, so
 * a loss entry or a confusion row reads as one line. Ends with a newline.
 *
 * @example
 * ```ts
 * import { formatJson } from "./_outputs.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatJson({ a: [1, 2], b: { c: [[1], [2]] } }),
 *   '{\n  "a": [1, 2],\n  "b": {\n    "c": [\n      [1],\n      [2]\n    ]\n  }\n}\n');
 * ```
 */
export function formatJson(value: unknown): string {
  return formatValue(value, "") + "\n";
}

function formatValue(v: unknown, indent: string): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  const isArray = Array.isArray(v);
  const entries = isArray
    ? (v as unknown[]).map((x) => ["", x] as const)
    : Object.entries(v).filter(([, x]) => x !== undefined);
  const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return open + close;
  const key = (k: string) => isArray ? "" : `${JSON.stringify(k)}: `;
  const flat = entries.every(([, x]) => x === null || typeof x !== "object");
  if (flat) {
    const line = `${open}${
      entries.map(([k, x]) => key(k) + formatValue(x, "")).join(", ")
    }${close}`;
    if (indent.length + line.length <= 100) return line;
  }
  const inner = indent + "  ";
  const lines = entries.map(([k, x]) => inner + key(k) + formatValue(x, inner));
  return `${open}\n${lines.join(",\n")}\n${indent}${close}`;
}
