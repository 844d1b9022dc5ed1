// From CSV records to named columns and rows of finite numbers, with errors that name the cell.

import { DataError, DECIMAL } from "./_csv_error.ts";
import type { RecordCallback } from "./_csv_records.ts";

/** Where the column names come from: line 1 (`true`), positions (`false`) or the caller. */
export type HeaderOption = boolean | readonly string[];

/** Receives the column names once, before any row. */
export type HeaderCallback = (names: readonly string[], line: number) => void;

/**
 * Receives one data row: `values` (reused: copy what you keep) holds one number per column,
 * `cells` the same row's text, and `line` its 1-based line.
 */
export type RowCallback = (values: Float64Array, line: number, cells: readonly string[]) => void;

/** The column names of a file without a header: "column 1", "column 2", …. */
function positionNames(count: number): string[] {
  return Array.from({ length: count }, (_, j) => `column ${j + 1}`);
}

/**
 * A {@linkcode RecordCallback} that takes the header, then turns each record into numbers.
 *
 * @throws {DataError} For a header with an empty or repeated name or only numbers, a row
 * with the wrong number of cells, or a cell that is empty, not a number or not finite.
 */
export function numericRecords(
  source: string,
  header: HeaderOption,
  onHeader: HeaderCallback,
  onRow: RowCallback,
): RecordCallback {
  let names: readonly string[] | null = null;
  let values = new Float64Array(0);
  const start = (given: readonly string[], line: number, fromFile: boolean) => {
    checkHeader(given, source, line, fromFile);
    names = given;
    values = new Float64Array(given.length);
    onHeader(given, line);
  };
  return (cells, line) => {
    const count = cells.length;
    if (names === null) {
      if (header === true) return start(cells, line, true);
      start(header === false ? positionNames(count) : [...header], line, false);
    }
    const columns = names!;
    if (count !== columns.length) {
      throw new DataError(
        `${source}, line ${line}: expected ${columns.length} cells (one per column) ` +
          `but found ${count}`,
      );
    }
    for (let j = 0; j < count; j++) {
      const cell = cells[j];
      const value = +cell;
      if (value - value !== 0 || !isDecimal(cell)) cellError(source, line, columns[j], cell);
      values[j] = value;
    }
    onRow(values, line, cells);
  };
}

/**
 * Whether `cell`, which `Number()` turns into a finite number, is written as {@linkcode DECIMAL}
 * asks, without the regex's cost. `Number()` reads what DECIMAL does, but also spaces around
 * the number, "" and the radix literals `0x…`, `0o…` and `0b…`: a first character that is a
 * digit, sign or point, a last that is a digit or point and no radix prefix leave DECIMAL's.
 */
export function isDecimal(cell: string): boolean {
  const first = cell.charCodeAt(0), last = cell.charCodeAt(cell.length - 1);
  if (!((first >= 48 && first <= 57) || first === 43 || first === 45 || first === 46)) {
    return false;
  }
  if (!((last >= 48 && last <= 57) || last === 46)) return false;
  if (first !== 48 || cell.length < 2) return true;
  const c = cell.charCodeAt(1) | 32; // lower case
  return c !== 120 && c !== 111 && c !== 98; // x, o, b
}

/** Throws the DataError for a cell that is not a finite number. */
function cellError(source: string, line: number, column: string, cell: string): never {
  const where = `${source}, line ${line}, column "${column}"`;
  if (cell === "") throw new DataError(`${where}: the cell is empty`);
  const finite = DECIMAL.test(cell) || /^[+-]?(?:nan|inf(?:inity)?)$/i.test(cell);
  throw new DataError(
    `${where}: value "${cell}" is not ${finite ? "a finite number" : "a number"}`,
  );
}

/** Checks column names: none empty, none repeated and, when read from the file, not all numbers. */
function checkHeader(names: readonly string[], source: string, line: number, fromFile: boolean) {
  const at = fromFile ? `${source}, line ${line}` : source;
  const seen = new Map<string, number>();
  names.forEach((name, j) => {
    if (name === "") {
      throw new DataError(
        `${at}: column ${j + 1} of the header has no name; name every column` +
          (fromFile ? ", or load the file with --no-header (header: false) if it has none" : ""),
      );
    }
    if (seen.has(name)) {
      throw new DataError(
        `${source}: column "${name}" appears twice (columns ${seen.get(name)! + 1} and ${j + 1})`,
      );
    }
    seen.set(name, j);
  });
  if (fromFile && names.every((name) => DECIMAL.test(name))) {
    const shown = names.slice(0, 3).map((name) => `"${name}"`).join(", ");
    throw new DataError(
      `${at}: the header holds only numbers (${shown}${names.length > 3 ? ", …" : ""}), ` +
        `so the file seems to have no header row; load it with --no-header (header: false), ` +
        `which names the columns "column 1" … "column ${names.length}"`,
    );
  }
}
