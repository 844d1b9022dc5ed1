// Numeric CSV loading: a feature matrix and class labels, with errors that name the cell.

import { fileURLToPath } from "node:url";
import { Matrix } from "../matrix.ts";
import { DataError } from "./_csv_error.ts";
import { checkedSize, countLineFeeds, encodingError, textChunks } from "./_csv_file.ts";
import { LabeledCollector } from "./_csv_labeled.ts";
import { numericRecords } from "./_csv_numeric.ts";
import { parseRecords, streamRecords } from "./_csv_records.ts";

export { DataError, DECIMAL } from "./_csv_error.ts";

/** The default `maxBytes`: 2 GiB, which loads in about 1.5 GB of memory for the pulsar rows. */
const DEFAULT_MAX_BYTES = 2 ** 31;

/** Options for {@linkcode loadLabeledCsv}. */
export interface LoadCsvOptions {
  /**
   * The label column: its name, or its 1-based position (`1` is the first column). The last
   * column when omitted.
   */
  label?: string | number;
  /** Put `X` in a `SharedArrayBuffer`, ready for worker threads. */
  shared?: boolean;
  /**
   * Where the column names come from: `true` (the default) reads them from the first row,
   * which must not hold only numbers; `false` means the file has no header, and names the
   * columns by position, "column 1", "column 2", …; a list of names also means line 1 is data.
   */
  header?: boolean | readonly string[];
  /**
   * The number of classes the labels must come from: a label outside 0 to `classes - 1` is
   * an error naming its line. Unchecked when omitted.
   */
  classes?: number;
  /**
   * The largest file, and the largest `X` plus labels, to load, in bytes: a clear error
   * instead of running out of memory. Default 2 GiB for files; unlimited for text.
   */
  maxBytes?: number;
}

/** Options for {@linkcode parseLabeledCsv}. */
export interface ParseCsvOptions extends LoadCsvOptions {
  /** What to call the text in error messages, usually its file name. Default `"CSV text"`. */
  source?: string;
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
 * Parses CSV text whose cells are all numbers: a header row (unless `header` says otherwise),
 * then one sample per row with one column holding the class label (the last column unless
 * `label` names or numbers another). Spaces around cells (and inside quotes) are ignored and
 * blank lines skipped; fields may be quoted; lines end in LF, CRLF or CR, the first line end
 * deciding for the whole text. The records come from papaparse.
 *
 * @throws {DataError} For empty text, UTF-16 text, no data rows, a header with an empty or
 * repeated name or only numbers, a row with the wrong number of cells, a cell that is empty,
 * not a number or not finite, an unknown `label`, a label that is not a non-negative integer
 * (or not below `classes`), or a single class.
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
 *
 * const bare = parseLabeledCsv("1,2,0\n3,4,1\n", { header: false, label: 1 });
 * assert.deepEqual(bare.featureNames, ["column 2", "column 3"]);
 * assert.deepEqual([...bare.labels], [1, 3]);
 * ```
 */
export function parseLabeledCsv(text: string, options: ParseCsvOptions = {}): LabeledData {
  const source = options.source ?? "CSV text";
  if (text.slice(0, 1024).includes("\0")) throw encodingError(source, null);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let lineFeeds = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lineFeeds++;
  const collector = new LabeledCollector({
    ...options,
    source,
    rowsHint: lineFeeds + 1,
    maxBytes: options.maxBytes ?? Infinity,
  });
  const records = numericRecords(
    source,
    options.header ?? true,
    collector.onHeader,
    collector.onRow,
  );
  parseRecords(text, source, records);
  return collector.finish();
}

/**
 * Reads and parses a numeric CSV file (see {@linkcode parseLabeledCsv}) as a stream. A first
 * pass counts the lines so `X` and `labels` are allocated once; the second has papaparse parse
 * 64 KB at a time into them. Peak memory is the result (8 bytes a feature, 4 a label) plus the
 * runtime's ~100-150 MB: 240 MB for a 150 MB file of pulsar-like rows, where csv-parse's sync
 * API took 1.6 GB.
 *
 * @throws {DataError} If the file cannot be read, is larger than `maxBytes`, is UTF-16, or
 * its contents are not valid; the message names the file.
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
  const source = sourceName(path);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const { isFile } = await checkedSize(path, source, maxBytes);
  // A pipe cannot be read twice: its rows go into buffers that double as they fill.
  const rowsHint = isFile ? (await countLineFeeds(path, source)) + 1 : 1024;
  const collector = new LabeledCollector({ ...options, source, rowsHint, maxBytes });
  const records = numericRecords(
    source,
    options.header ?? true,
    collector.onHeader,
    collector.onRow,
  );
  for await (const _ of streamRecords(textChunks(path, source), source, records)) { /* fill */ }
  return collector.finish();
}

/** Options for {@linkcode readCsvRows}. */
export interface ReadCsvRowsOptions {
  /** Where the column names come from, as for {@linkcode LoadCsvOptions.header}. */
  header?: boolean | readonly string[];
  /**
   * Rows per batch (the last may hold fewer). Default 8192, or fewer for wide files so that a
   * batch holds at most about a million numbers (8 MB).
   */
  batchRows?: number;
}

/** A run of consecutive rows from {@linkcode readCsvRows}. */
export interface CsvBatch {
  /** The column names, the same array in every batch. */
  columns: readonly string[];
  /** How many rows the batch holds. */
  rows: number;
  /** The numbers, `rows × columns.length`, row after row. */
  values: Float64Array;
  /** The 1-based line each row starts on, for messages about a row. */
  lines: Uint32Array;
}

/**
 * Streams a numeric CSV file as batches of rows, with the same parsing and errors as
 * {@linkcode loadLabeledCsv} but no label column and no size limit: memory stays flat (one
 * batch and 64 KB of text) however large the file.
 *
 * @throws {DataError} If the file cannot be read, is empty or UTF-16, or a row or cell is
 * not valid (thrown from the iteration that reaches it).
 *
 * @example Sum a column of a file
 * ```ts
 * import { readCsvRows } from "./csv.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "x,y\n1,2\n3,4\n5,6\n");
 * let sum = 0, batches = 0;
 * for await (const batch of readCsvRows(path, { batchRows: 2 })) {
 *   assert.deepEqual(batch.columns, ["x", "y"]);
 *   for (let i = 0; i < batch.rows; i++) sum += batch.values[i * 2 + 1];
 *   batches++;
 * }
 * assert.equal(sum, 12);
 * assert.equal(batches, 2);
 * await Deno.remove(path);
 * ```
 */
export async function* readCsvRows(
  path: string | URL,
  options: ReadCsvRowsOptions = {},
): AsyncGenerator<CsvBatch, void, undefined> {
  const source = sourceName(path);
  const given = options.batchRows;
  if (given !== undefined && !(Number.isInteger(given) && given >= 1)) {
    throw new RangeError(`readCsvRows: batchRows must be a positive integer, got ${given}`);
  }
  const ready: CsvBatch[] = [];
  let columns: readonly string[] | null = null;
  let batch: CsvBatch | null = null;
  let batchRows = 0;
  const onRow = (values: Float64Array, line: number) => {
    const width = values.length;
    batchRows ||= given ?? Math.max(1, Math.min(8192, Math.floor(2 ** 20 / width)));
    batch ??= {
      columns: columns!,
      rows: 0,
      values: new Float64Array(batchRows * width),
      lines: new Uint32Array(batchRows),
    };
    const out = batch.values, at = batch.rows * width;
    for (let j = 0; j < width; j++) out[at + j] = values[j];
    batch.lines[batch.rows++] = line;
    if (batch.rows === batchRows) [ready[ready.length], batch] = [batch, null];
  };
  const records = numericRecords(source, options.header ?? true, (names) => columns = names, onRow);
  for await (const _ of streamRecords(textChunks(path, source), source, records)) {
    yield* ready.splice(0);
  }
  if (columns === null) throw new DataError(`${source}: the file is empty; expected a header row`);
  const last = batch as CsvBatch | null;
  if (last !== null) {
    const width = last.columns.length;
    yield {
      ...last,
      values: last.values.subarray(0, last.rows * width),
      lines: last.lines.subarray(0, last.rows),
    };
  }
}

/** The path as messages show it: a file URL as a path. */
function sourceName(path: string | URL): string {
  return path instanceof URL && path.protocol === "file:" ? fileURLToPath(path) : String(path);
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
