// Numeric CSV loading: a feature matrix and class labels, with errors that name the cell.

import { parse } from "npm:csv-parse@7.0.3/sync";
import { fileURLToPath } from "node:url";
import { Matrix } from "../matrix.ts";

/**
 * A problem with a data file or its contents. The message names the file and, when it is
 * about one cell, the line (1-based, the header is line 1), the column and the value.
 *
 * @example
 * ```ts
 * import { DataError, parseLabeledCsv } from "./csv.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => parseLabeledCsv("x,label\n1,0\nabc,1\n", { source: "tiny.csv" }),
 *   (e) => e instanceof DataError && e.message.includes('tiny.csv, line 3, column "x"'),
 * );
 * ```
 */
export class DataError extends Error {
  /**
   * Creates the error; `cause` keeps the underlying error, if any.
   *
   * @example
   * ```ts
   * import { DataError } from "./csv.ts";
   * import assert from "node:assert/strict";
   * assert.equal(new DataError("data.csv: file not found").name, "DataError");
   * ```
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DataError";
  }
}

/** Options for {@linkcode loadLabeledCsv}. */
export interface LoadCsvOptions {
  /** Name of the label column; the last column when omitted. */
  label?: string;
  /** Put `X` in a `SharedArrayBuffer`, ready for worker threads. */
  shared?: boolean;
}

/** Options for {@linkcode parseLabeledCsv}. */
export interface ParseCsvOptions extends LoadCsvOptions {
  /** What to call the text in error messages, usually its file name. Default `"CSV text"`. */
  source?: string;
  /** Column names for text without a header row: line 1 is then data. */
  header?: readonly string[];
}

/** A labelled data set: one row of `X` and one entry of `labels` per sample. */
export interface LabeledData {
  /** The features, samples × features. */
  X: Matrix;
  /** The class of each sample, a non-negative integer. */
  labels: Int32Array;
  /** The feature column names, in the order of `X`'s columns. */
  featureNames: string[];
  /** The label column's name. */
  labelName: string;
  /** The distinct labels, ascending (at least two). */
  classes: number[];
}

/**
 * A plain decimal number, as data files and flags write them: an optional sign, digits with
 * an optional point, an optional exponent. Unlike `Number()`, it refuses the empty string,
 * spaces, `0x10`, `Infinity` and `NaN`; a match can still overflow to ±Infinity (`1e999`).
 *
 * @example
 * ```ts
 * import { DECIMAL } from "./csv.ts";
 * import assert from "node:assert/strict";
 * assert.ok(["1", "-2.5", ".5", "3.", "+1e-3"].every((s) => DECIMAL.test(s)));
 * assert.ok(!["", " 1", "0x10", "Infinity", "1e", "."].some((s) => DECIMAL.test(s)));
 * ```
 */
export const DECIMAL: RegExp = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses CSV text whose cells are all numbers: a header row, then one sample per row with
 * one column holding the class label (the last column unless `label` names another).
 * Spaces around cells are ignored and blank lines skipped.
 *
 * @throws {DataError} For empty text, no data rows, a row with the wrong number of cells,
 * a cell that is empty, not a number or not finite, an unknown `label` name, a label that
 * is not a non-negative integer, or a single class.
 *
 * @example Features and labels from a small CSV
 * ```ts
 * import { parseLabeledCsv } from "./csv.ts";
 * import assert from "node:assert/strict";
 *
 * const data = parseLabeledCsv(" a , b , label\n 1, 2, 0\n 3, 4, 1\n");
 * assert.deepEqual(data.X.toArray(), [[1, 2], [3, 4]]);
 * assert.deepEqual([...data.labels], [0, 1]);
 * assert.deepEqual(data.featureNames, ["a", "b"]);
 * assert.deepEqual(data.classes, [0, 1]);
 * ```
 */
export function parseLabeledCsv(text: string, options: ParseCsvOptions = {}): LabeledData {
  const source = options.source ?? "CSV text";
  let records: { record: string[]; info: { lines: number } }[]; // `info.lines`: 1-based line
  try {
    records = parse(text, {
      trim: true,
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: true, // ragged rows are reported below, with the column names
    }) as unknown as typeof records;
  } catch (e) {
    throw new DataError(`${source}: ${(e as Error).message}`, { cause: e });
  }

  if (records.length === 0) {
    throw new DataError(`${source}: the file is empty; expected a header row and data rows`);
  }
  const names = options.header ? [...options.header] : records[0].record;
  const rows = options.header ? records : records.slice(1);
  if (rows.length === 0) throw new DataError(`${source}: there is a header but no data rows`);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new DataError(`${source}: column "${name}" appears twice`);
    seen.add(name);
  }
  if (names.length < 2) {
    throw new DataError(
      `${source}: expected feature columns and a label column, got only ${names}`,
    );
  }

  const labelIndex = options.label === undefined ? names.length - 1 : names.indexOf(options.label);
  if (labelIndex < 0) {
    throw new DataError(
      `${source}: no column is named "${options.label}"; the columns are ${names.join(", ")}`,
    );
  }
  const labelName = names[labelIndex];
  const featureNames = names.filter((_, j) => j !== labelIndex);

  const X = Matrix.zeros(rows.length, featureNames.length, { shared: options.shared });
  const labels = new Int32Array(rows.length);
  const classes = new Set<number>();
  let k = 0;
  for (let i = 0; i < rows.length; i++) {
    const { record, info } = rows[i];
    if (record.length !== names.length) {
      throw new DataError(
        `${source}, line ${info.lines}: expected ${names.length} cells (one per column) ` +
          `but found ${record.length}`,
      );
    }
    for (let j = 0; j < record.length; j++) {
      const cell = record[j];
      const where = `${source}, line ${info.lines}, column "${names[j]}"`;
      if (cell === "") throw new DataError(`${where}: the cell is empty`);
      if (!DECIMAL.test(cell)) {
        const what = /^[+-]?(?:nan|inf(?:inity)?)$/i.test(cell) ? "a finite number" : "a number";
        throw new DataError(`${where}: value "${cell}" is not ${what}`);
      }
      const value = Number(cell);
      if (!Number.isFinite(value)) {
        throw new DataError(`${where}: value "${cell}" is not a finite number`);
      }
      if (j !== labelIndex) X.data[k++] = value;
      else if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
        throw new DataError(`${where}: label "${cell}" is not a class (a non-negative integer)`);
      } else {
        labels[i] = value;
        classes.add(value);
      }
    }
  }
  if (classes.size < 2) {
    throw new DataError(
      `${source}: column "${labelName}" holds a single class (${[...classes]}); ` +
        `a classifier needs at least two`,
    );
  }
  return { X, labels, featureNames, labelName, classes: [...classes].sort((a, b) => a - b) };
}

/**
 * Reads and parses a numeric CSV file (see {@linkcode parseLabeledCsv}).
 *
 * @throws {DataError} If the file cannot be read or its contents are not valid; the
 * message names the file.
 *
 * @example Load a file
 * ```ts
 * import { loadLabeledCsv } from "./csv.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "label,x\n1,0.5\n0,1.5\n");
 * const data = await loadLabeledCsv(path, { label: "label", shared: true });
 * assert.deepEqual([...data.labels], [1, 0]);
 * assert.equal(data.X.isShared, true);
 * await Deno.remove(path);
 * ```
 */
export async function loadLabeledCsv(
  path: string | URL,
  options: LoadCsvOptions = {},
): Promise<LabeledData> {
  const source = path instanceof URL && path.protocol === "file:"
    ? fileURLToPath(path)
    : String(path);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "file not found" : (e as Error).message;
    throw new DataError(`${source}: cannot read the file: ${why}`, { cause: e });
  }
  return parseLabeledCsv(text, { ...options, source });
}

/**
 * One-hot targets: row i has a 1 in column `labels[i]` and 0 elsewhere. For the pulsar
 * data, `oneHot(labels, 2)` gives the targets `[label == 0, label == 1]`.
 *
 * @throws {RangeError} If `labels` is empty or a label is not an integer in [0, numClasses).
 *
 * @example
 * ```ts
 * import { oneHot } from "./csv.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(oneHot([1, 0, 1], 2).toArray(), [[0, 1], [1, 0], [0, 1]]);
 * ```
 */
export function oneHot(
  labels: ArrayLike<number>,
  numClasses: number,
  options: { shared?: boolean } = {},
): Matrix {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  }
  if (labels.length === 0) throw new RangeError("oneHot: labels is empty");
  const Y = Matrix.zeros(labels.length, numClasses, options);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new RangeError(`oneHot: label ${c} at index ${i} is outside [0, ${numClasses})`);
    }
    Y.data[i * numClasses + c] = 1;
  }
  return Y;
}
