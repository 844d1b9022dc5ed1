// CSV records from papaparse, with trimmed cells, blank lines skipped and the line each starts on.

import { Readable } from "node:stream";
import Papa from "npm:papaparse@5.7.1";
import { DataError } from "./_csv_error.ts";

/**
 * Receives one record: its trimmed cells (the array is papaparse's, so keep it if you like) and
 * the 1-based line the record starts on.
 */
export type RecordCallback = (cells: string[], line: number) => void;

/** What papaparse reports of one call: the records and any problems (`row` indexes `data`). */
interface PapaResults {
  data: string[][];
  errors: { type: string; code: string; message: string; row?: number }[];
  /** How far into the whole input papaparse has parsed: it keeps the rest for the next piece. */
  meta: { cursor: number };
}

/** The part of papaparse's parser handle used here. */
interface PapaHandle {
  abort(): void;
}

/** The papaparse options used here (there are no bundled types). */
interface PapaConfig {
  delimiter: string;
  step?: (results: { data: string[]; errors: PapaResults["errors"] }, parser: PapaHandle) => void;
  chunk?: (results: PapaResults, parser: PapaHandle) => void;
  complete?: () => void;
  error?: (error: Error) => void;
}

const parse = Papa.parse as (input: string | Readable, config: PapaConfig) => unknown;

// Papaparse reads delimiters, quotes, `""` escapes and line ends (it guesses the line end, LF,
// CRLF or CR, from the first piece it is given, 64 KB of a file, and takes it as the only one). It keeps the spaces around a cell, which are
// trimmed here; it leaves a quoted cell with spaces before its opening quote as it is (` "2" `),
// which is unquoted here. A line of only spaces is a record of one empty cell, skipped here.
// Papaparse does not say which cells were quoted, so spaces inside quotes are trimmed too
// (csv-parse keeps them): `" 5 "` reads as 5, where csv-parse gave a cell that is not a number.

/**
 * Turns papaparse's records into trimmed cells and line numbers.
 *
 * Line numbers are followed by counting each record as one line, plus the line breaks inside
 * the quoted cells of the first record (a header) and of blank records. The receiver must
 * refuse a later record with a line break in a cell (a number cannot hold one), as the
 * numeric reader does, or the lines after it would be off.
 */
class Records {
  #line = 1;
  #first = true;
  #source: string;
  #onRecord: RecordCallback;

  constructor(source: string, onRecord: RecordCallback) {
    this.#source = source;
    this.#onRecord = onRecord;
  }

  /**
   * Takes the records of one papaparse call, in order. Before the last call, papaparse keeps
   * back the unfinished last row (to parse again with the next piece) but may report a problem
   * in it, such as a closing quote followed by the CR of a CRLF cut from its LF: those reports
   * are left until the row is complete.
   */
  take(results: PapaResults, final: boolean): void {
    const { data, errors } = results;
    let bad = Infinity;
    for (const e of errors) {
      const row = e.row ?? data.length - 1;
      if (row < bad && (final || row < data.length)) bad = row;
    }
    const n = Math.min(data.length, bad);
    for (let i = 0; i < n; i++) this.one(data[i]);
    if (bad !== Infinity) this.fail(errors.find((e) => (e.row ?? data.length - 1) === bad)!);
  }

  /** Takes one record. */
  one(record: string[]): void {
    const line = this.#line;
    const blank = trimCells(record);
    if (blank || this.#first) this.#line += lineBreaks(record);
    this.#line++;
    if (blank) return;
    this.#first = false;
    this.#onRecord(record, line);
  }

  /** Throws a DataError for a papaparse problem with the record on the current line. */
  fail(error: PapaResults["errors"][number]): never {
    const where = `${this.#source}, line ${this.#line}`;
    if (error.code === "MissingQuotes") {
      throw new DataError(
        `${where}: Quote Not Closed: a quote opened in the row starting on this line has no ` +
          `closing quote before the end of the file`,
      );
    }
    if (error.code === "InvalidQuotes") {
      throw new DataError(
        `${where}: Invalid Closing Quote: a closing quote in the row starting on this line is ` +
          `followed by something other than a comma or the line end`,
      );
    }
    throw new DataError(`${where}: ${error.message}`);
  }
}

/**
 * Trims the cells of `record` in place, unquoting a cell that had spaces before its opening
 * quote; whether the record is blank (a single empty cell).
 */
function trimCells(record: string[]): boolean {
  for (let j = 0; j < record.length; j++) {
    const raw = record[j];
    let cell = raw.trim();
    if (cell.charCodeAt(0) === QUOTE && cell !== raw && isSpace(raw.charCodeAt(0))) {
      if (cell.length >= 2 && cell.charCodeAt(cell.length - 1) === QUOTE) {
        cell = cell.slice(1, -1).replaceAll('""', '"');
      }
    }
    record[j] = cell;
  }
  return record.length === 1 && record[0] === "";
}

const QUOTE = 34;

/** Whether `c` is a space or a tab. */
function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/** The line breaks (LF, CRLF or a lone CR) inside the cells of `record`. */
function lineBreaks(record: readonly string[]): number {
  let breaks = 0;
  for (const cell of record) {
    for (let i = 0; i < cell.length; i++) {
      const c = cell.charCodeAt(i);
      if (c === 10 || (c === 13 && cell.charCodeAt(i + 1) !== 10)) breaks++;
    }
  }
  return breaks;
}

/**
 * Parses the CSV `text` with papaparse, one record at a time, giving each to `onRecord`.
 *
 * @throws {DataError} For a quote that is not closed, or text after a closing quote.
 */
export function parseRecords(text: string, source: string, onRecord: RecordCallback): void {
  const records = new Records(source, onRecord);
  let failure: unknown = null;
  parse(text, {
    delimiter: ",",
    step: ({ data, errors }, parser) => {
      try {
        if (errors.length > 0) records.fail(errors[0]);
        records.one(data);
      } catch (e) {
        failure ??= e;
        parser.abort();
      }
    },
  });
  if (failure !== null) throw failure;
}

/**
 * Parses the CSV text arriving in `chunks` with papaparse's stream reader, giving each record
 * to `onRecord`; yields after each chunk's records, so a caller can hand on what they made.
 *
 * @throws {DataError} For a quote that is not closed, or text after a closing quote; any
 * error from `chunks` or `onRecord` is thrown as it is.
 */
export async function* streamRecords(
  chunks: AsyncIterable<string>,
  source: string,
  onRecord: RecordCallback,
): AsyncGenerator<void, void, undefined> {
  const feed = new PapaFeed(new Records(source, onRecord));
  // Papaparse parses the unfinished last row again with each new piece: a row longer than a
  // piece (a quote left open swallows the rest of the file) would cost time quadratic in its
  // length. Holding pieces back until they are as long as that row keeps it linear.
  let pending: string[] = [], pendingLength = 0;
  for await (const text of chunks) {
    pending.push(text);
    pendingLength += text.length;
    if (pendingLength < feed.unparsed) continue;
    const piece = pending.length === 1 ? pending[0] : pending.join("");
    [pending, pendingLength] = [[], 0];
    if (piece === "") continue;
    await feed.push(piece);
    yield;
  }
  if (pendingLength > 0) await feed.push(pending.join(""));
  await feed.end();
  yield;
}

/**
 * Papaparse's stream reader fed one piece at a time: `push` resolves once the piece's records
 * have gone to `Records`, which keeps memory flat; the first error is thrown from there.
 */
class PapaFeed {
  #input = new Readable({ objectMode: true, read() {} });
  #records: Records;
  #failure: unknown = null;
  #done = false;
  #ending = false;
  #fed = 0;
  #parsedTo = 0;
  #wake: (() => void) | null = null;

  constructor(records: Records) {
    this.#records = records;
    parse(this.#input, {
      delimiter: ",",
      chunk: (results, parser) => {
        this.#parsedTo = results.meta.cursor;
        try {
          this.#records.take(results, this.#ending);
        } catch (e) {
          this.#failure ??= e;
          parser.abort();
        }
        this.#settle();
      },
      complete: () => (this.#done = true, this.#settle()),
      error: (e) => (this.#failure ??= e, this.#settle()),
    });
  }

  /** Characters fed that papaparse holds back as an unfinished row. */
  get unparsed(): number {
    return this.#fed - this.#parsedTo;
  }

  push(piece: string): Promise<void> {
    this.#fed += piece.length;
    return this.#settled(() => this.#input.push(piece));
  }

  async end(): Promise<void> {
    this.#ending = true;
    await this.#settled(() => this.#input.push(null));
    while (!this.#done) await this.#settled();
  }

  #settle(): void {
    const resolve = this.#wake;
    this.#wake = null;
    resolve?.();
  }

  async #settled(push?: () => void): Promise<void> {
    const parsed = new Promise<void>((resolve) => this.#wake = resolve);
    push?.();
    await parsed;
    if (this.#failure !== null) throw this.#failure;
  }
}
