// Command-line checks shared by the scripts: the usage error and strict integer flags.

/**
 * A bad command line: the message names the flag and the value. The CLIs exit with code 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./_flags.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new UsageError("--lr must be positive").name, "UsageError");
 * ```
 */
export class UsageError extends Error {
  /**
   * Creates the error.
   *
   * @example
   * ```ts
   * import { UsageError } from "./_flags.ts";
   * import assert from "node:assert/strict";
   * assert.match(new UsageError("--steps must be a positive integer").message, /--steps/);
   * ```
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

const INTEGER = /^[+-]?\d+$/;

/**
 * The integer `text` spells in decimal digits, with an optional sign, or `undefined` for
 * anything else, including text `Number()` would take (`" 7"`, `"0x10"`, `"1e3"`, `"7.0"`,
 * `""`) and integers beyond ±2^53 that would lose digits.
 *
 * @example
 * ```ts
 * import { parseInteger } from "./_flags.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(["7", "-4", "+3"].map(parseInteger), [7, -4, 3]);
 * assert.ok([" 7", "0x10", "1e3", "7.0", ""].every((s) => parseInteger(s) === undefined));
 * ```
 */
export function parseInteger(text: string): number | undefined {
  const n = Number(text);
  return INTEGER.test(text) && Number.isSafeInteger(n) ? n : undefined;
}

/** Options for {@linkcode parseIntegerFlag}. */
export interface IntegerFlagOptions {
  /** The smallest value allowed. */
  min?: number;
  /** The largest value allowed. */
  max?: number;
  /**
   * What the value must be, for the message. Default from the bounds: "an integer",
   * "a positive integer" (`min: 1`), "an integer from 1 to 256" and so on.
   */
  what?: string;
}

/**
 * Parses the value of `--flag` as an integer (see {@linkcode parseInteger}) within bounds.
 *
 * @throws {UsageError} `--flag must be WHAT, got "text"`.
 *
 * @example
 * ```ts
 * import { parseIntegerFlag } from "./_flags.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseIntegerFlag("steps", "20", { min: 1 }), 20);
 * assert.throws(
 *   () => parseIntegerFlag("seed", "0x10"),
 *   { name: "UsageError", message: '--seed must be an integer, got "0x10"' },
 * );
 * ```
 */
export function parseIntegerFlag(
  flag: string,
  text: string,
  options: IntegerFlagOptions = {},
): number {
  const { min = -Infinity, max = Infinity } = options;
  const n = parseInteger(text);
  if (n !== undefined && n >= min && n <= max) return n;
  throw new UsageError(`--${flag} must be ${options.what ?? describe(min, max)}, got "${text}"`);
}

function describe(min: number, max: number): string {
  if (min > -Infinity && max < Infinity) return `an integer from ${min} to ${max}`;
  if (min === 1) return "a positive integer";
  if (min > -Infinity) return `an integer of at least ${min}`;
  return max < Infinity ? `an integer of at most ${max}` : "an integer";
}
