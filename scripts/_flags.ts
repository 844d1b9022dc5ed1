// Command-line checks shared by the scripts: parsing flags, the usage error, strict numbers.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { DECIMAL } from "../lib/data/csv.ts";

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

/**
 * Parses a decimal number flag as the CSV loader reads numbers (no hex, no "Infinity") and
 * checks it with `ok`.
 *
 * @throws {UsageError} `--flag must be <what>, got "text"`.
 *
 * @example
 * ```ts
 * import { parseDecimalFlag } from "./_flags.ts";
 * import assert from "node:assert/strict";
 * const positive = (x: number) => x > 0;
 * assert.equal(parseDecimalFlag("lr", "0.01", positive, "a positive number"), 0.01);
 * assert.throws(() => parseDecimalFlag("lr", "0x1", positive, "a positive number"), /--lr must be/);
 * ```
 */
export function parseDecimalFlag(
  flag: string,
  text: string,
  ok: (x: number) => boolean,
  what: string,
): number {
  const x = Number(text);
  if (DECIMAL.test(text) && Number.isFinite(x) && ok(x)) return x;
  throw new UsageError(`--${flag} must be ${what}, got "${text}"`);
}

/** The `--flag` definitions {@linkcode parseFlags} takes, as for `node:util` `parseArgs`. */
export type FlagOptions = NonNullable<ParseArgsConfig["options"]>;

/** The parsed values of {@linkcode parseFlags}, typed from the flag definitions. */
export type FlagValues<O extends FlagOptions> = ReturnType<
  typeof parseArgs<{ args: string[]; strict: true; allowPositionals: true; options: O }>
>["values"];

/**
 * Parses `--flag` arguments strictly (`node:util` `parseArgs`); `"help"` when `--help`/`-h` is
 * among them. Options must include `help: { type: "boolean", short: "h" }`.
 *
 * @throws {UsageError} For an unknown flag, a missing value or a stray argument.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./_flags.ts";
 * import assert from "node:assert/strict";
 * const options = {
 *   steps: { type: "string", default: "10" },
 *   help: { type: "boolean", short: "h", default: false },
 * } as const;
 * const values = parseFlags(["--steps", "5"], options);
 * assert.ok(values !== "help" && values.steps === "5");
 * assert.equal(parseFlags(["-h"], options), "help");
 * assert.throws(() => parseFlags(["--nope"], options), /Unknown option '--nope'/);
 * assert.throws(() => parseFlags(["5"], options), /Unexpected argument "5"/);
 * ```
 */
export function parseFlags<const O extends FlagOptions>(
  args: readonly string[],
  options: O,
): FlagValues<O> | "help" {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], strict: true, allowPositionals: true, options });
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
  if ((parsed.values as { help?: boolean }).help) return "help";
  if (parsed.positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument "${parsed.positionals[0]}"; every option is a --flag`,
    );
  }
  return parsed.values;
}

/**
 * Parses `--workers`: `"auto"` or an integer from 1 to 256 (threads, the main thread included).
 *
 * @throws {UsageError} `--workers must be "auto" or an integer from 1 to 256, got "text"`.
 *
 * @example
 * ```ts
 * import { parseWorkersFlag } from "./_flags.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([parseWorkersFlag("auto"), parseWorkersFlag("2")], ["auto", 2]);
 * assert.throws(() => parseWorkersFlag("0"), /--workers must be "auto" or an integer/);
 * ```
 */
export function parseWorkersFlag(text: string): number | "auto" {
  if (text === "auto") return "auto";
  return parseIntegerFlag("workers", text, {
    min: 1,
    max: 256,
    what: `"auto" or an integer from 1 to 256`,
  });
}

/**
 * Parses `--label`: a 1-based column position when the text is an integer, else a column name.
 *
 * @throws {UsageError} For an empty name or a position below 1.
 *
 * @example
 * ```ts
 * import { parseLabelFlag } from "./_flags.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([parseLabelFlag("class"), parseLabelFlag("9")], ["class", 9]);
 * assert.throws(() => parseLabelFlag("0"), /--label must be a column name or a 1-based/);
 * ```
 */
export function parseLabelFlag(text: string): string | number {
  const n = parseInteger(text);
  if (text.trim() === "" || (n !== undefined && n < 1)) {
    throw new UsageError(
      `--label must be a column name or a 1-based column position, got "${text}"`,
    );
  }
  return n ?? text;
}

/**
 * The `--flag` that sets a config field: `testFraction` is `--test-fraction`.
 *
 * @example
 * ```ts
 * import { flagOf } from "./_flags.ts";
 * import assert from "node:assert/strict";
 * assert.equal(flagOf("logEvery"), "--log-every");
 * ```
 */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
