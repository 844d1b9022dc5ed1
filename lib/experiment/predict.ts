// Scoring candidates with a saved model: streams a CSV of feature rows to a CSV of scores and labels.

import { DataError, readCsvRows } from "../data/csv.ts";
import { parseModel, type SavedModel, serializeModel } from "../nn/model_io.ts";

/**
 * A model ready to score rows: the saved MLP plus how to read its outputs.
 * `output` is `"tanh"` for a network whose every layer is `tanh` (the notebook's MSE network,
 * as `deno task train` saves it): its score is the class-1 output in [-1, 1], and the label
 * is the larger output. `"logits"` is for a cross-entropy network whose last layer is linear:
 * its score is the softmax probability of class 1, and the label is 1 when the score is at
 * least `threshold`.
 */
export interface ScoringModel extends SavedModel {
  /** How the last layer is read; see above. */
  output: "tanh" | "logits";
  /** For `"logits"`: the probability from which a row is called class 1 (default 0.5). */
  threshold: number;
  /**
   * Input columns (0-based) replaced by sign(x)·log(1 + |x|) before the input scaling, as the
   * practitioner network is trained on them; absent or empty for none.
   */
  logColumns?: number[];
}

/**
 * Reads a model file's text: {@linkcode parseModel}'s fields plus three optional ones it
 * ignores, `"output"` (`"tanh"`, the default, or `"logits"`), `"threshold"` (default 0.5) and
 * `"logColumns"` (input columns to log-transform first, default none).
 *
 * @throws {SyntaxError | TypeError} As `parseModel`, or for an unknown `output` or a
 * threshold that is not a finite number.
 *
 * @example
 * ```ts
 * import { createRng, initMLP, parseScoringModel, serializeModel } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const text = serializeModel([2, 3, 2], initMLP([2, 3, 2], createRng(0)));
 * assert.equal(parseScoringModel(text, "m.json").output, "tanh");
 * const ce = text.replace(/^\{/, '{\n  "output": "logits", "threshold": 0.3,');
 * assert.equal(parseScoringModel(ce, "m.json").threshold, 0.3);
 * ```
 */
export function parseScoringModel(text: string, source = "model text"): ScoringModel {
  const model = parseModel(text, source);
  const { output = "tanh", threshold = 0.5, logColumns = [] } = JSON.parse(text) as {
    output?: unknown;
    threshold?: unknown;
    logColumns?: unknown;
  };
  if (output !== "tanh" && output !== "logits") {
    throw new TypeError(
      `${source}: "output" must be "tanh" or "logits", got ${JSON.stringify(output)}`,
    );
  }
  if (model.sizes.at(-1) !== 2) {
    throw new TypeError(
      `${source}: a scoring model has 2 outputs (class 0 and class 1), got ${model.sizes.at(-1)}`,
    );
  }
  if (typeof threshold !== "number" || !Number.isFinite(threshold)) {
    throw new TypeError(
      `${source}: "threshold" must be a finite number, got ${JSON.stringify(threshold)}`,
    );
  }
  const inputs = model.sizes[0];
  if (
    !Array.isArray(logColumns) ||
    !logColumns.every((j) => Number.isInteger(j) && j >= 0 && j < inputs)
  ) {
    throw new TypeError(
      `${source}: "logColumns" must be a list of input columns (0 to ${inputs - 1}), got ${
        JSON.stringify(logColumns)
      }`,
    );
  }
  return { ...model, output, threshold, ...(logColumns.length ? { logColumns } : {}) };
}

/**
 * The model file text of a scoring model: {@linkcode serializeModel}'s, with `"output"` and
 * `"threshold"` first. {@linkcode parseScoringModel} reads it back exactly.
 *
 * @example
 * ```ts
 * import { createRng, initMLP, parseScoringModel, serializeScoringModel } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const model = { sizes: [2, 2], params: initMLP([2, 2], createRng(0)),
 *   output: "logits" as const, threshold: 0.25 };
 * const back = parseScoringModel(serializeScoringModel(model));
 * assert.deepEqual([back.output, back.threshold], ["logits", 0.25]);
 * assert.deepEqual(back.params[0].data, model.params[0].data);
 * ```
 */
export function serializeScoringModel(model: ScoringModel): string {
  const text = serializeModel(model.sizes, model.params, model.standardizer);
  const logColumns = model.logColumns?.length
    ? `\n  "logColumns": [${model.logColumns.join(", ")}],`
    : "";
  return `{\n  "output": ${JSON.stringify(model.output)},\n  "threshold": ${model.threshold},` +
    logColumns + text.slice(1);
}

/** Options for {@linkcode predictCsv}. */
export interface PredictCsvOptions {
  /** Receives the output text in order, a header line then one chunk per batch of rows. */
  write: (chunk: string) => void | Promise<void>;
  /** Whether the candidates file has a header row (default true). */
  header?: boolean;
  /** Rows per batch read and written (default: readCsvRows's). */
  batchRows?: number;
}

/** What {@linkcode predictCsv} did. */
export interface PredictSummary {
  /** Rows scored. */
  rows: number;
  /** Rows predicted class 1. */
  positives: number;
}

/**
 * Scores every row of the numeric CSV `input` with `model` and writes `score,label` lines
 * (with that header) to `options.write`, batch by batch: memory stays flat however long the file.
 * Each row is log-transformed in the model's `logColumns` and standardized with its input
 * scaling, when it has them. The forward pass
 * is plain loops over the weights, row by row (`tanh(W h + b)` layer by layer, as
 * `mlpForward`, which it matches to rounding), so no batch matrices are built.
 *
 * @throws {DataError} If a row does not have one value per model input (naming the file,
 * line, expected and found counts), or the file is not a valid numeric CSV.
 *
 * @example
 * ```ts
 * import { createRng, initMLP, predictCsv } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const model = { sizes: [2, 3, 2], params: initMLP([2, 3, 2], createRng(0)),
 *   output: "tanh" as const, threshold: 0.5 };
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "a,b\n1,2\n3,4\n");
 * let text = "";
 * const summary = await predictCsv(model, path, { write: (chunk) => { text += chunk; } });
 * assert.equal(summary.rows, 2);
 * assert.match(text, /^score,label\n-?\d.*,[01]\n.*,[01]\n$/);
 * await Deno.remove(path);
 * ```
 */
export async function predictCsv(
  model: ScoringModel,
  input: string,
  options: PredictCsvOptions,
): Promise<PredictSummary> {
  const { write } = options;
  const inputs = model.sizes[0];
  const layers = model.params.length / 2;
  const width = Math.max(...model.sizes);
  let a = new Float64Array(width), b = new Float64Array(width);
  const { mean, std } = model.standardizer ?? { mean: null, std: null };
  const logits = model.output === "logits";
  const logColumns = model.logColumns ?? [];
  let rows = 0, positives = 0;
  await write("score,label\n");
  for await (
    const batch of readCsvRows(input, {
      header: options.header ?? true,
      ...(options.batchRows === undefined ? {} : { batchRows: options.batchRows }),
    })
  ) {
    if (batch.columns.length !== inputs) {
      throw new DataError(
        `${input}, line ${batch.lines[0]}: expected ${inputs} values per row (the model's ` +
          `inputs), found ${batch.columns.length}` +
          (batch.columns.length === inputs + 1 ? "; drop the label column" : ""),
      );
    }
    const lines: string[] = new Array(batch.rows);
    const v = batch.values;
    for (let r = 0; r < batch.rows; r++) {
      const at = r * inputs;
      for (let j = 0; j < inputs; j++) a[j] = v[at + j];
      for (const j of logColumns) a[j] = Math.sign(a[j]) * Math.log1p(Math.abs(a[j]));
      if (mean !== null) { for (let j = 0; j < inputs; j++) a[j] = (a[j] - mean[j]) / std![j]; }
      for (let l = 0; l < layers; l++) {
        const W = model.params[2 * l].data, bias = model.params[2 * l + 1].data;
        const nIn = model.sizes[l], nOut = model.sizes[l + 1];
        const last = l === layers - 1;
        for (let o = 0; o < nOut; o++) {
          let s = 0;
          const row = o * nIn;
          for (let k = 0; k < nIn; k++) s += W[row + k] * a[k];
          s += bias[o];
          b[o] = last && logits ? s : Math.tanh(s);
        }
        [a, b] = [b, a];
      }
      let score: number, label: number;
      if (logits) {
        const d = a[1] - a[0]; // softmax over two logits is the logistic of their difference
        score = d >= 0 ? 1 / (1 + Math.exp(-d)) : Math.exp(d) / (1 + Math.exp(d));
        label = score >= model.threshold ? 1 : 0;
      } else {
        score = a[1];
        label = a[1] > a[0] ? 1 : 0;
      }
      positives += label;
      lines[r] = `${score},${label}\n`;
    }
    rows += batch.rows;
    await write(lines.join(""));
  }
  return { rows, positives };
}
