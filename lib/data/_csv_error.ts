// The data error and the number syntax shared by the CSV loader's files (re-exported by csv.ts).

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
