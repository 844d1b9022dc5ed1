// Collecting numeric rows into a feature matrix and labels, in buffers sized once and grown rarely.

import { Matrix } from "../matrix.ts";
import { DataError } from "./_csv_error.ts";
import { formatBytes } from "./_csv_file.ts";
import type { HeaderCallback, RowCallback } from "./_csv_numeric.ts";

/** What the collector needs to know besides the rows. */
export interface CollectOptions {
  /** What to call the data in messages. */
  source: string;
  /** The label column's name, or its 1-based position; the last column when omitted. */
  label?: string | number;
  /** When set, labels must lie in 0 .. classes - 1. */
  classes?: number;
  /** Allocate `X` in a `SharedArrayBuffer`. */
  shared?: boolean;
  /** The most rows expected (more are taken, by growing the buffers). */
  rowsHint: number;
  /** The most bytes the buffers may take. */
  maxBytes: number;
}

/** The labelled data set the collector returns. */
export interface Collected {
  X: Matrix;
  labels: Int32Array;
  featureNames: string[];
  labelName: string;
  classes: number[];
}

/** Gathers rows into `X` and `labels`: give `onHeader` and `onRow` to the parser, then `finish`. */
export class LabeledCollector {
  #o: CollectOptions;
  #names: readonly string[] = [];
  #label = -1;
  #features = 0;
  #X: Float64Array<ArrayBufferLike> = new Float64Array(0);
  #labels = new Int32Array(0);
  #rows = 0;
  #classes = new Set<number>();

  constructor(options: CollectOptions) {
    const { classes } = options;
    if (classes !== undefined && !(Number.isInteger(classes) && classes >= 1)) {
      throw new RangeError(`classes must be a positive integer, got ${classes}`);
    }
    this.#o = options;
  }

  /** Takes the column names, finds the label column and sizes the buffers. */
  onHeader: HeaderCallback = (names) => {
    const { source, label } = this.#o;
    if (names.length < 2) {
      throw new DataError(
        `${source}: expected feature columns and a label column, got only ${names}`,
      );
    }
    this.#label = labelIndex(names, label, source);
    this.#names = names;
    this.#features = names.length - 1;
    this.#grow(Math.max(1, this.#o.rowsHint));
  };

  /** Copies one row's features and label, checking the label. */
  onRow: RowCallback = (values, line, cells) => {
    if (this.#rows === this.#labels.length) this.#grow(2 * this.#rows);
    const label = this.#label, X = this.#X;
    let k = this.#rows * this.#features;
    for (let j = 0; j < values.length; j++) if (j !== label) X[k++] = values[j];
    const y = values[label];
    if (!Number.isInteger(y) || y < 0 || y > 0x7fffffff || y >= (this.#o.classes ?? Infinity)) {
      this.#badLabel(line, cells[label]);
    }
    this.#labels[this.#rows++] = y;
    this.#classes.add(y);
  };

  /** The data set; an error if there are no rows or a single class. */
  finish(): Collected {
    const { source } = this.#o;
    if (this.#names.length === 0) {
      throw new DataError(`${source}: the file is empty; expected a header row and data rows`);
    }
    if (this.#rows === 0) throw new DataError(`${source}: there is a header but no data rows`);
    const labelName = this.#names[this.#label];
    if (this.#classes.size < 2) {
      throw new DataError(
        `${source}: column "${labelName}" holds a single class (${[...this.#classes]}); ` +
          `a classifier needs at least two`,
      );
    }
    // Blank lines leave the buffers a little long: a view then costs nothing, a copy would.
    if (this.#labels.length - this.#rows > this.#rows / 8) this.#grow(this.#rows);
    return {
      X: new Matrix(this.#rows, this.#features, this.#X.subarray(0, this.#rows * this.#features)),
      labels: this.#labels.subarray(0, this.#rows),
      featureNames: this.#names.filter((_, j) => j !== this.#label),
      labelName,
      classes: [...this.#classes].sort((a, b) => a - b),
    };
  }

  #badLabel(line: number, cell: string): never {
    const { source, classes } = this.#o;
    const where = `${source}, line ${line}, column "${this.#names[this.#label]}"`;
    const y = Number(cell);
    if (classes !== undefined && Number.isInteger(y) && y >= classes) {
      throw new DataError(
        `${where}: label "${cell}" is outside the ${classes} expected classes ` +
          `(0 to ${classes - 1})`,
      );
    }
    throw new DataError(`${where}: label "${cell}" is not a class (a non-negative integer)`);
  }

  /** Moves the rows into buffers for `capacity` rows, failing clearly if they cannot fit. */
  #grow(capacity: number): void {
    const { source, shared, maxBytes } = this.#o;
    const bytes = capacity * (this.#features * 8 + 4);
    const what =
      `${capacity} rows of ${this.#features} feature${this.#features === 1 ? "" : "s"} ` +
      `need ${formatBytes(bytes)}`;
    if (bytes > maxBytes) {
      throw new DataError(`${source}: ${what}, more than maxBytes (${formatBytes(maxBytes)})`);
    }
    try {
      const n = capacity * this.#features;
      const X = shared ? new Float64Array(new SharedArrayBuffer(8 * n)) : new Float64Array(n);
      X.set(this.#X.subarray(0, this.#rows * this.#features));
      const labels = new Int32Array(capacity);
      labels.set(this.#labels.subarray(0, this.#rows));
      [this.#X, this.#labels] = [X, labels];
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      throw new DataError(`${source}: ${what}, and that memory cannot be had: ${e.message}`, {
        cause: e,
      });
    }
  }
}

/** The 0-based index of the label column named or numbered (1-based) by `label`. */
function labelIndex(names: readonly string[], label: string | number | undefined, source: string) {
  if (label === undefined) return names.length - 1;
  if (typeof label === "number") {
    if (Number.isInteger(label) && label >= 1 && label <= names.length) return label - 1;
    throw new DataError(
      `${source}: label column ${label} does not exist; the file has columns 1 to ${names.length}`,
    );
  }
  const index = names.indexOf(label);
  if (index < 0) {
    const byPosition = /^\d+$/.test(label)
      ? `; to take column ${label} by position, give the number ${label}`
      : "";
    const shown = names.length > 12 ? `${names.slice(0, 12).join(", ")}, …` : names.join(", ");
    throw new DataError(
      `${source}: no column is named "${label}"; the columns are ${shown}${byPosition}`,
    );
  }
  return index;
}
