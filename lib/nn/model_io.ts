// Saving and loading MLP weights as JSON that round-trips every double exactly.

import { Matrix } from "../matrix.ts";
import { checkSizes } from "./mlp.ts";

/**
 * How inputs are scaled before the network sees them: `(x - mean[j]) / std[j]` per feature.
 * `lib/data`'s `Standardizer` has this shape, so a fitted one can be saved as it is.
 */
export interface InputScaling {
  /** The value subtracted from each feature. */
  mean: number[];
  /** The (positive) value each centred feature is divided by. */
  std: number[];
}

/** A trained MLP as stored on disk: the layer sizes, the weight list, and its input scaling. */
export interface SavedModel {
  /** Layer sizes, inputs first, e.g. `[8, 25, 10, 2]`. */
  sizes: number[];
  /** `[W1, b1, W2, b2, ...]` as produced by `initMLP` and training. */
  params: Matrix[];
  /**
   * The feature statistics the network was trained on (`--standardize`): inputs must be
   * standardized with them before `mlpForward`. Absent when it was trained on raw features.
   */
  standardizer?: InputScaling;
}

/**
 * The MLP as JSON text `{"sizes": [...], "params": [W1, b1, ...]}` (plus `"standardizer":
 * {"mean", "std"}` when one is given), each matrix a list of rows, one row per line. Numbers are written in JavaScript's shortest round-trip form (and
 * `-0` as `-0`), so {@linkcode parseModel} restores every bit; nothing else is written (no
 * timestamps or run details), so equal weights give byte-equal text.
 *
 * @throws {TypeError} If `params` does not match the shapes `sizes` implies.
 * @throws {RangeError} If a weight is NaN or infinite (JSON cannot hold it).
 *
 * @example Save and reload
 * ```ts
 * import { createRng, initMLP, parseModel, serializeModel } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const params = initMLP([2, 3, 2], createRng(0));
 * const text = serializeModel([2, 3, 2], params);
 * const model = parseModel(text, "model.json");
 * assert.deepEqual(model.params.map((m) => m.data), params.map((m) => m.data));
 * assert.equal(serializeModel(model.sizes, model.params), text);
 * ```
 */
export function serializeModel(
  sizes: readonly number[],
  params: readonly Matrix[],
  standardizer?: InputScaling,
): string {
  checkParams(sizes, params, "serializeModel");
  if (
    standardizer &&
    (standardizer.mean.length !== sizes[0] || standardizer.std.length !== sizes[0])
  ) {
    throw new TypeError(
      `serializeModel: the standardizer covers ${standardizer.mean.length} features but the ` +
        `network has ${sizes[0]} inputs`,
    );
  }
  const number = (v: number, where: string) => {
    if (!Number.isFinite(v)) {
      throw new RangeError(`serializeModel: ${where} is ${v}; only finite weights can be saved`);
    }
    return Object.is(v, -0) ? "-0" : String(v);
  };
  const matrices = params.map((m, p) => {
    const rows = m.toArray().map((row, i) =>
      `      [${row.map((v, j) => number(v, `params[${p}] (${i}, ${j})`)).join(", ")}]`
    );
    return `    [\n${rows.join(",\n")}\n    ]`;
  });
  const list = (name: string, values: number[]) =>
    `[${values.map((v, j) => number(v, `standardizer ${name}[${j}]`)).join(", ")}]`;
  const scaling = standardizer
    ? `,\n  "standardizer": {\n    "mean": ${list("mean", standardizer.mean)},\n    "std": ${
      list("std", standardizer.std)
    }\n  }`
    : "";
  return `{\n  "sizes": [${sizes.join(", ")}],\n  "params": [\n${
    matrices.join(",\n")
  }\n  ]${scaling}\n}\n`;
}

/**
 * Reads a model written by {@linkcode serializeModel}.
 *
 * @param source Names the text in error messages, usually its file name.
 * @throws {SyntaxError} If the text is not JSON.
 * @throws {TypeError} If it is not `{sizes, params}` with shapes that fit together.
 *
 * @example Errors name the file and what is wrong
 * ```ts
 * import { parseModel } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => parseModel('{"sizes": [2, 1]}', "m.json"), /m.json: "params" must be/);
 * ```
 */
export function parseModel(text: string, source = "model text"): SavedModel {
  const fail = (why: string): never => {
    throw new TypeError(`${source}: ${why}`);
  };
  const { sizes, params, standardizer } = parseJsonObject(text, source, fail);
  const layerSizes = parseSizes(sizes, fail);
  const matrices = parseMatrices(params, fail);
  try {
    checkParams(layerSizes, matrices, "parseModel");
  } catch (e) {
    fail((e as Error).message);
  }
  if (standardizer === undefined) return { sizes: layerSizes, params: matrices };
  return {
    sizes: layerSizes,
    params: matrices,
    standardizer: parseScaling(standardizer, layerSizes[0], fail),
  };
}

type Fail = (why: string) => never;

/** The model file's top-level fields, still unchecked. */
function parseJsonObject(
  text: string,
  source: string,
  fail: Fail,
): { sizes?: unknown; params?: unknown; standardizer?: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`${source}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    fail('expected an object with "sizes" and "params"');
  }
  return json as { sizes?: unknown; params?: unknown; standardizer?: unknown };
}

function parseSizes(sizes: unknown, fail: Fail): number[] {
  if (!Array.isArray(sizes) || !sizes.every((s) => Number.isInteger(s) && s > 0)) {
    fail(`"sizes" must be a list of positive integers, got ${JSON.stringify(sizes)}`);
  }
  const layerSizes = sizes as number[];
  if (layerSizes.length < 2) fail(`"sizes" needs at least two layers, got [${layerSizes}]`);
  return layerSizes;
}

function parseMatrices(params: unknown, fail: Fail): Matrix[] {
  if (!Array.isArray(params)) {
    fail(`"params" must be a list of matrices (lists of rows), got ${typeof params}`);
  }
  return (params as unknown[]).map((rows, p) => {
    if (!Array.isArray(rows) || rows.length === 0) {
      fail(`params[${p}] must be a non-empty list of rows`);
    }
    for (const [i, row] of (rows as unknown[]).entries()) {
      if (!Array.isArray(row) || !row.every((v) => typeof v === "number")) {
        fail(`params[${p}] row ${i} must be a list of numbers`);
      }
    }
    try {
      return Matrix.from(rows as number[][]);
    } catch (e) {
      return fail(`params[${p}]: ${(e as Error).message}`);
    }
  });
}

function parseScaling(standardizer: unknown, inputs: number, fail: Fail): InputScaling {
  const { mean, std } = (standardizer ?? {}) as { mean?: unknown; std?: unknown };
  const isList = (v: unknown) =>
    Array.isArray(v) && v.length === inputs &&
    v.every((x) => typeof x === "number" && Number.isFinite(x));
  if (!isList(mean) || !isList(std) || (std as number[]).some((x) => x <= 0)) {
    fail(
      `"standardizer" must be {"mean", "std"}, each a list of ${inputs} finite ` +
        "numbers (std positive)",
    );
  }
  return { mean: mean as number[], std: std as number[] };
}

/** Checks that `params` is `[W1, b1, ...]` with `Wl` (sizes[l] × sizes[l-1]), `bl` (sizes[l] × 1). */
function checkParams(sizes: readonly number[], params: readonly Matrix[], where: string): void {
  checkSizes(sizes);
  const expected = sizes.slice(1).flatMap((out, l) => [[out, sizes[l]], [out, 1]]);
  const shapes = params.map((m) => m.shape);
  if (JSON.stringify(shapes) !== JSON.stringify(expected)) {
    throw new TypeError(
      `${where}: sizes [${sizes}] need parameter shapes ${fmt(expected)}, got ${fmt(shapes)}`,
    );
  }
}

function fmt(shapes: number[][]): string {
  return `[${shapes.map(([r, c]) => `${r}x${c}`).join(", ")}]`;
}
