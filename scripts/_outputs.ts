// What a run leaves in its output folder: metrics.json, model.json and loss.svg, replaced as a unit.

import { basename } from "node:path";
import { openOutputDir, type OutputDir, type WriteFile } from "../lib/_fs.ts";
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

/** The files `train` writes; a run replaces all three, carrying over others' (seeds.md). */
export const TRAIN_FILES: readonly string[] = ["loss.svg", "model.json", "metrics.json"];
/** The files `seeds` writes. */
export const SEEDS_FILES: readonly string[] = ["seeds.md", "seeds.json"];
/** The files `cv` writes; practitioner_model.json only with `--save-model`. */
export const CV_FILES: readonly string[] = [
  "roc.svg",
  "pr.svg",
  "cv.md",
  "cv.json",
  "practitioner_model.json",
];

/** Options for {@linkcode openOutputs}. */
export interface OpenOutputsOptions {
  /** Writes each file; inject a failing or slow one to test. Default: write and fsync. */
  writeFile?: WriteFile;
}

/**
 * Opens `--out` before a run's work: checks it can be written, takes its lock and cleans up
 * after killed runs (see {@linkcode openOutputDir}). A plain directory holding only the
 * outputs of train, seeds and cv (an older release's results/) is adopted as the first version.
 *
 * @throws {OutputDirError} Naming `--out` and the cause.
 *
 * @example
 * ```ts
 * import { openOutputs } from "./_outputs.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const out = await openOutputs(`${dir}/results`);
 * await assert.rejects(openOutputs(`${dir}/results`), /--out .*results is in use by another run/);
 * out.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openOutputs(
  path: string,
  options: OpenOutputsOptions = {},
): Promise<OutputDir> {
  return await openOutputDir(path, {
    adopt: [...TRAIN_FILES, ...SEEDS_FILES, ...CV_FILES],
    label: `--out ${path}`,
    writeFile: options.writeFile,
  });
}

/**
 * Writes {@linkcode outputFiles} into the opened `--out` as one unit. A run that finished
 * "ok" replaces the previous set; a diverged run leaves it alone and publishes its metrics
 * and loss curve as `OUT.d/diverged/` instead. Returns the paths written.
 *
 * @example
 * ```ts
 * import { openOutputs, writeOutputs } from "./_outputs.ts";
 * import { EXPERIMENT_DEFAULTS, parseLabeledCsv, runExperiment } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const data = parseLabeledCsv("a,label\n0,0\n1,1\n");
 * const config = { ...EXPERIMENT_DEFAULTS, data: "t.csv", layers: [1, 2], steps: 2, workers: 1 };
 * const dir = await Deno.makeTempDir();
 * const out = await openOutputs(`${dir}/results`);
 * const paths = await writeOutputs(out, await runExperiment(config, { data }));
 * assert.equal(paths.length, 3);
 * out.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeOutputs(out: OutputDir, result: ExperimentResult): Promise<string[]> {
  const files = outputFiles(result);
  if (result.metrics.status !== "ok") {
    return await out.replace(files, { link: "diverged", carry: false });
  }
  return await out.replace(files);
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
