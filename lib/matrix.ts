// The 2-D Float64 matrix every other module works on, with storage that may be shared between threads.

import type { Rng } from "./random.ts"; // a type only: random.ts imports nothing, so no cycle

/** Options for creating a matrix. */
export interface MatrixOptions {
  /** Back the matrix with a `SharedArrayBuffer` so workers can read and write the same memory. */
  shared?: boolean;
}

/** Options for {@linkcode Matrix.randomNormal}. */
export interface RandomNormalOptions extends MatrixOptions {
  /** The mean of every element (default 0). */
  mean?: number;
  /** The standard deviation of every element (default 1). */
  std?: number;
}

/** Options for {@linkcode Matrix.randomUniform}. */
export interface RandomUniformOptions extends MatrixOptions {
  /** The lowest value, included (default 0). */
  low?: number;
  /** The highest value, excluded (default 1). */
  high?: number;
}

/**
 * A plain, structured-clone-friendly description of a shared matrix: post it to a worker
 * and rebuild the matrix there with {@linkcode Matrix.wrap}, without copying the data.
 */
export interface SharedMatrixHandle {
  /** Number of rows. */
  rows: number;
  /** Number of columns. */
  cols: number;
  /** The row-major elements, viewing a `SharedArrayBuffer`. */
  data: Float64Array;
}

/**
 * A dense, row-major 2-D matrix of 64-bit floats.
 *
 * @example Create, read and share a matrix
 * ```ts
 * import { Matrix } from "./matrix.ts";
 * import assert from "node:assert/strict";
 *
 * const m = Matrix.from([[1, 2, 3], [4, 5, 6]], { shared: true });
 * assert.deepEqual(m.get(1, 2), 6);
 * assert.deepEqual(m.isShared, true);
 * const same = Matrix.wrap(m.share()); // e.g. inside a worker
 * same.data[0] = 10;
 * assert.deepEqual(m.toArray(), [[10, 2, 3], [4, 5, 6]]);
 * ```
 */
export class Matrix {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** The elements in row-major order: element (i, j) is `data[i * cols + j]`. */
  readonly data: Float64Array;

  /**
   * Wraps existing row-major storage (no copy); allocates zeros when `data` is omitted.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * const m = new Matrix(2, 2, new Float64Array([1, 2, 3, 4]));
   * assert.deepEqual(m.get(1, 0), 3);
   * ```
   */
  constructor(rows: number, cols: number, data?: Float64Array) {
    checkDimension("rows", rows);
    checkDimension("cols", cols);
    if (data === undefined) data = new Float64Array(rows * cols);
    else if (data.length !== rows * cols) {
      throw new RangeError(
        `Matrix: data has ${data.length} elements but ${rows}x${cols} needs ${rows * cols}`,
      );
    }
    this.rows = rows;
    this.cols = cols;
    this.data = data;
  }

  /**
   * A matrix of zeros. Either dimension may be 0 (an empty selection).
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * assert.deepEqual(Matrix.zeros(1, 2).toArray(), [[0, 0]]);
   * assert.deepEqual(Matrix.zeros(0, 3).shape, [0, 3]);
   * ```
   */
  static zeros(rows: number, cols: number, options: MatrixOptions = {}): Matrix {
    checkDimension("rows", rows);
    checkDimension("cols", cols);
    return new Matrix(rows, cols, allocate(rows * cols, options.shared ?? false));
  }

  /**
   * A matrix filled with one value.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * assert.deepEqual(Matrix.full(2, 1, 7).toArray(), [[7], [7]]);
   * ```
   */
  static full(rows: number, cols: number, value: number, options: MatrixOptions = {}): Matrix {
    const m = Matrix.zeros(rows, cols, options);
    m.data.fill(value);
    return m;
  }

  /**
   * A matrix of ones.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * assert.deepEqual(Matrix.ones(2, 3).toArray(), [[1, 1, 1], [1, 1, 1]]);
   * ```
   */
  static ones(rows: number, cols: number, options: MatrixOptions = {}): Matrix {
    return Matrix.full(rows, cols, 1, options);
  }

  /**
   * The n×n identity matrix.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * assert.deepEqual(Matrix.eye(2).toArray(), [[1, 0], [0, 1]]);
   * ```
   */
  static eye(n: number, options: MatrixOptions = {}): Matrix {
    const m = Matrix.zeros(n, n, options);
    for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
    return m;
  }

  /**
   * A matrix of independent normal draws, `mean + std · rng.normal()`, one draw per element
   * in row-major order: the same generator state gives the same matrix.
   *
   * @param rng The generator (from `createRng`), or anything with a `normal()` method.
   * @throws {RangeError} If `mean` is not finite or `std` is not a finite non-negative number.
   *
   * @example
   * ```ts
   * import { createRng, Matrix } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const a = Matrix.randomNormal(2, 3, createRng(0), { mean: 1, std: 0.1 });
   * assert.deepEqual(a.shape, [2, 3]);
   * assert.deepEqual(a.toArray(), Matrix.randomNormal(2, 3, createRng(0), { mean: 1, std: 0.1 }).toArray());
   * ```
   */
  static randomNormal(
    rows: number,
    cols: number,
    rng: Pick<Rng, "normal">,
    options: RandomNormalOptions = {},
  ): Matrix {
    const { mean = 0, std = 1 } = options;
    if (!Number.isFinite(mean)) {
      throw new RangeError(`Matrix.randomNormal: mean must be finite, got ${mean}`);
    }
    if (!Number.isFinite(std) || std < 0) {
      throw new RangeError(`Matrix.randomNormal: std must be finite and >= 0, got ${std}`);
    }
    const m = Matrix.zeros(rows, cols, options);
    for (let i = 0; i < m.data.length; i++) m.data[i] = mean + std * rng.normal();
    return m;
  }

  /**
   * A matrix of independent uniform draws on [low, high), `low + (high - low) · rng.next()`,
   * one draw per element in row-major order.
   *
   * @param rng The generator (from `createRng`), or anything with a `next()` method in [0, 1).
   * @throws {RangeError} If `low` or `high` is not finite, or `low > high`.
   *
   * @example
   * ```ts
   * import { createRng, Matrix } from "../mod.ts";
   * import assert from "node:assert/strict";
   * const u = Matrix.randomUniform(3, 2, createRng(1), { low: -1, high: 1 });
   * assert.ok(u.data.every((x) => x >= -1 && x < 1));
   * ```
   */
  static randomUniform(
    rows: number,
    cols: number,
    rng: Pick<Rng, "next">,
    options: RandomUniformOptions = {},
  ): Matrix {
    const { low = 0, high = 1 } = options;
    if (!Number.isFinite(low) || !Number.isFinite(high) || low > high) {
      throw new RangeError(
        `Matrix.randomUniform: needs finite low <= high, got low ${low} and high ${high}`,
      );
    }
    const m = Matrix.zeros(rows, cols, options);
    for (let i = 0; i < m.data.length; i++) m.data[i] = low + (high - low) * rng.next();
    return m;
  }

  /**
   * Builds a matrix from nested arrays, one inner array per row; `[]` gives a 0x0 matrix and
   * `[[], []]` a 2x0 one (to make 0xN, use {@linkcode Matrix.zeros}).
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * const m = Matrix.from([[1, 2], [3, 4]]);
   * assert.deepEqual([m.rows, m.cols], [2, 2]);
   * assert.deepEqual(Matrix.from([]).shape, [0, 0]);
   * ```
   */
  static from(rows: readonly (readonly number[])[], options: MatrixOptions = {}): Matrix {
    if (!Array.isArray(rows)) {
      throw new TypeError(
        `Matrix.from: expected an array of rows (arrays of numbers), got ${describeValue(rows)}`,
      );
    }
    const cols = rows.length === 0 ? 0 : rowLength(rows[0], 0);
    const m = Matrix.zeros(rows.length, cols, options);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (rowLength(row, i) !== cols) {
        throw new TypeError(
          `Matrix.from: row ${i} has ${row.length} columns but row 0 has ${cols}`,
        );
      }
      for (let j = 0; j < cols; j++) {
        const v = row[j];
        if (typeof v !== "number") {
          throw new TypeError(`Matrix.from: element (${i}, ${j}) is not a number: ${String(v)}`);
        }
        m.data[i * cols + j] = v;
      }
    }
    return m;
  }

  /**
   * Rebuilds a matrix from a {@linkcode SharedMatrixHandle} (for example one received by a
   * worker) over the same memory: writes through either are seen by both.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * const a = Matrix.zeros(2, 2, { shared: true });
   * Matrix.wrap(a.share()).data[3] = 1;
   * assert.deepEqual(a.get(1, 1), 1);
   * ```
   */
  static wrap(handle: SharedMatrixHandle): Matrix {
    return new Matrix(handle.rows, handle.cols, handle.data);
  }

  /**
   * `[rows, cols]`.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * assert.deepEqual(Matrix.zeros(2, 3).shape, [2, 3]);
   * ```
   */
  get shape(): [number, number] {
    return [this.rows, this.cols];
  }

  /**
   * Whether the storage is a `SharedArrayBuffer`.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * assert.deepEqual(Matrix.zeros(1, 1).isShared, false);
   * ```
   */
  get isShared(): boolean {
    return typeof SharedArrayBuffer !== "undefined" &&
      this.data.buffer instanceof SharedArrayBuffer;
  }

  /**
   * Element (i, j).
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * assert.deepEqual(Matrix.from([[1, 2]]).get(0, 1), 2);
   * ```
   */
  get(i: number, j: number): number {
    if (i < 0 || i >= this.rows || j < 0 || j >= this.cols) {
      throw new RangeError(`Matrix.get: (${i}, ${j}) is outside ${this.rows}x${this.cols}`);
    }
    return this.data[i * this.cols + j];
  }

  /**
   * A handle to post to a worker; the matrix must be shared (see {@linkcode Matrix.toShared}).
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * const h = Matrix.zeros(1, 3, { shared: true }).share();
   * assert.deepEqual([h.rows, h.cols], [1, 3]);
   * ```
   */
  share(): SharedMatrixHandle {
    if (!this.isShared) {
      throw new TypeError(
        "Matrix.share: the matrix is not backed by a SharedArrayBuffer; use toShared() first",
      );
    }
    return { rows: this.rows, cols: this.cols, data: this.data };
  }

  /**
   * This matrix if it is already shared, else a copy in shared memory.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * assert.deepEqual(Matrix.from([[1]]).toShared().isShared, true);
   * ```
   */
  toShared(): Matrix {
    if (this.isShared) return this;
    const m = Matrix.zeros(this.rows, this.cols, { shared: true });
    m.data.set(this.data);
    return m;
  }

  /**
   * A copy with its own (unshared) storage.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * const a = Matrix.from([[1]]);
   * const b = a.clone();
   * b.data[0] = 2;
   * assert.deepEqual(a.get(0, 0), 1);
   * ```
   */
  clone(): Matrix {
    return new Matrix(this.rows, this.cols, this.data.slice());
  }

  /**
   * The elements as nested arrays, one per row.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import assert from "node:assert/strict";
   * assert.deepEqual(Matrix.from([[1, 2]]).toArray(), [[1, 2]]);
   * ```
   */
  toArray(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.rows; i++) {
      out.push(Array.from(this.data.subarray(i * this.cols, (i + 1) * this.cols)));
    }
    return out;
  }

  /** A short description for error messages and debugging, e.g. `Matrix(2x3)`. */
  toString(): string {
    return `Matrix(${this.rows}x${this.cols})`;
  }
}

// Zero is allowed: an empty selection (no rows, or no columns) is still a matrix.
function checkDimension(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`Matrix: ${name} must be a non-negative integer, got ${n}`);
  }
}

function allocate(length: number, shared: boolean): Float64Array {
  return shared
    ? new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT))
    : new Float64Array(length);
}

function rowLength(row: unknown, i: number): number {
  if (!Array.isArray(row)) {
    throw new TypeError(
      `Matrix.from: row ${i} is ${describeValue(row)}, not an array of numbers`,
    );
  }
  return row.length;
}

function describeValue(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x === "object") return `an object (${x.constructor?.name ?? "Object"})`;
  return `${typeof x} ${String(x)}`;
}
