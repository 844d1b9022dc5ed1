// A push CSV scanner: text arrives in chunks, trimmed records leave through a callback.

import { DataError } from "./_csv_error.ts";

/**
 * Receives one record: `cells[0 .. count)` are its trimmed cells (the array is reused, so copy
 * what you keep) and `line` is the 1-based line the record starts on.
 */
export type RecordCallback = (cells: string[], count: number, line: number) => void;

const COMMA = 44, LF = 10, CR = 13, QUOTE = 34, SPACE = 32, TAB = 9;

/**
 * Splits CSV text into records as csv-parse does with `trim` and `skip_empty_lines`: fields
 * separated by commas, records by LF, CRLF or a lone CR, double quotes around a field that
 * holds commas, newlines or `""`. Blank (or all-space) lines are skipped but counted.
 * A record cut by a chunk boundary is kept and scanned again when the rest arrives.
 */
export class CsvScanner {
  #carry = "";
  #pending: string[] = [];
  #pendingLength = 0;
  #line = 1; // the line the carried text starts on
  #cells: string[] = [];
  #count = 0;
  #source: string;
  #onRecord: RecordCallback;

  constructor(source: string, onRecord: RecordCallback) {
    this.#source = source;
    this.#onRecord = onRecord;
  }

  /** Scans `text`, the next piece of the input. */
  push(text: string): void {
    this.#pending.push(text);
    this.#pendingLength += text.length;
    // A record longer than a chunk is scanned again from its start: waiting for as much new
    // text as is carried keeps that linear in the record's length instead of quadratic.
    if (this.#pendingLength < this.#carry.length) return;
    this.#scan(this.#take(), false);
  }

  /** Scans what is left: the input has ended. */
  end(): void {
    this.#scan(this.#take(), true);
  }

  /** The carried text followed by the pending pieces, which are then cleared. */
  #take(): string {
    const text = this.#carry +
      (this.#pending.length === 1 ? this.#pending[0] : this.#pending.join(""));
    this.#pending = [];
    this.#pendingLength = 0;
    return text;
  }

  #scan(text: string, final: boolean): void {
    let pos = 0;
    while (pos < text.length) {
      const next = this.#record(text, pos, final);
      if (next < 0) break;
      pos = next;
    }
    this.#carry = pos < text.length ? text.slice(pos) : "";
  }

  /** Scans the record at `pos`; its end, or -1 when it runs past the text before the end. */
  #record(text: string, pos: number, final: boolean): number {
    const n = text.length;
    const line = this.#line;
    let lines = 0; // newlines inside quoted fields
    this.#count = 0;
    let i = pos;
    for (;;) {
      let c = i < n ? text.charCodeAt(i) : -1;
      while (c === SPACE || c === TAB) c = ++i < n ? text.charCodeAt(i) : -1;
      if (c === QUOTE) {
        const end = this.#quoted(text, i + 1, final, line + lines);
        if (end < 0) return -1;
        lines += countNewlines(text, i, end);
        i = end;
        c = i < n ? text.charCodeAt(i) : -1;
      } else {
        const start = i;
        while (c !== COMMA && c !== LF && c !== CR && c !== -1) {
          c = ++i < n ? text.charCodeAt(i) : -1;
        }
        this.#cells[this.#count++] = text.slice(start, i).trim();
      }
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === -1 && !final) return -1;
      if (c === CR && i + 1 >= n && !final) return -1; // is a LF next?
      const next = c === -1 ? n : c === CR && text.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
      this.#line = line + lines + (c === -1 ? 0 : 1);
      if (this.#count > 1 || this.#cells[0] !== "") {
        this.#onRecord(this.#cells, this.#count, line);
      }
      return next;
    }
  }

  /**
   * Scans a quoted field whose text starts at `i`, storing its value; the position after the
   * closing quote and any spaces, or -1 when the text ends first.
   */
  #quoted(text: string, i: number, final: boolean, line: number): number {
    let value = "";
    for (;;) {
      const q = text.indexOf('"', i);
      if (q < 0 || (q + 1 === text.length && !final)) {
        if (!final) return -1;
        throw new DataError(
          `${this.#source}, line ${line}: Quote Not Closed: the quote opened on this line ` +
            `has no closing quote before the end of the file`,
        );
      }
      value += text.slice(i, q);
      if (text.charCodeAt(q + 1) === QUOTE) {
        value += '"';
        i = q + 2;
        continue;
      }
      let j = q + 1;
      let c = text.charCodeAt(j);
      while (c === SPACE || c === TAB) c = text.charCodeAt(++j);
      if (j < text.length && c !== COMMA && c !== LF && c !== CR) {
        throw new DataError(
          `${this.#source}, line ${line}: Invalid Closing Quote: found ` +
            `${JSON.stringify(text[j])} after the closing quote instead of a comma or line end`,
        );
      }
      if (j === text.length && !final) return -1;
      this.#cells[this.#count++] = value;
      return j;
    }
  }
}

/** How many line ends (LF, CRLF or lone CR) lie in `text[from .. to)`. */
function countNewlines(text: string, from: number, to: number): number {
  let lines = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) lines++;
  }
  return lines;
}
