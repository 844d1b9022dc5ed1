// Reading a CSV file in chunks: the size limit, the encoding check, UTF-8 decoding, line counts.

import { DataError } from "./_csv_error.ts";

// 64 KB a read: each decoded string stays young garbage; a 1 MB one is a large object that
// lives until a full GC (1 MB chunks peaked 60-110 MB higher on 150-180 MB files).
const CHUNK = 1 << 16;

/** `bytes` in MB or KB, for messages. */
export function formatBytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} KB`;
}

/** Opens `path`, turning a failure into a DataError naming `source`. */
async function open(path: string | URL, source: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "file not found" : (e as Error).message;
    throw new DataError(`${source}: cannot read the file: ${why}`, { cause: e });
  }
}

/**
 * The file's size and whether it is a regular file (a pipe cannot be read twice), after
 * checking the size against `maxBytes`.
 *
 * @throws {DataError} If the file cannot be read or is larger than `maxBytes`.
 */
export async function checkedSize(
  path: string | URL,
  source: string,
  maxBytes: number,
): Promise<{ size: number; isFile: boolean }> {
  let size: number, isFile: boolean;
  try {
    ({ size, isFile } = await Deno.stat(path));
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "file not found" : (e as Error).message;
    throw new DataError(`${source}: cannot read the file: ${why}`, { cause: e });
  }
  if (size > maxBytes) {
    throw new DataError(
      `${source}: the file is ${formatBytes(size)}, more than the ${formatBytes(maxBytes)} ` +
        `this loader accepts (maxBytes); raise maxBytes if the machine has the memory, ` +
        `or read it in batches with readCsvRows`,
    );
  }
  return { size, isFile };
}

/**
 * Throws a DataError when `bytes`, the start of a file, look UTF-16: a UTF-16 byte order mark,
 * or NUL bytes in the first KiB (text files hold none).
 */
function checkEncoding(bytes: Uint8Array, source: string): void {
  const bom = bytes[0] === 0xff && bytes[1] === 0xfe
    ? "UTF-16LE"
    : bytes[0] === 0xfe && bytes[1] === 0xff
    ? "UTF-16BE"
    : null;
  if (bom !== null || bytes.subarray(0, 1024).includes(0)) throw encodingError(source, bom);
}

/** The error for a file that is UTF-16 (`bom` names the byte order when a BOM says it). */
export function encodingError(source: string, bom: string | null): DataError {
  const what = bom === null
    ? `not UTF-8 text: it holds NUL bytes, as UTF-16 text (Excel's "Unicode text") does`
    : `${bom} text (it starts with a UTF-16 byte order mark), not UTF-8`;
  return new DataError(
    `${source}: the file is ${what}; save it again as CSV in UTF-8 ` +
      `(in Excel: "CSV UTF-8 (Comma delimited)")`,
  );
}

/**
 * The file's text, decoded as UTF-8 (a byte order mark dropped) in chunks of 64 KB,
 * after checking the encoding.
 */
export async function* textChunks(path: string | URL, source: string): AsyncGenerator<string> {
  using file = await open(path, source);
  const buffer = new Uint8Array(CHUNK);
  const decoder = new TextDecoder("utf-8");
  let first = true;
  for (;;) {
    const n = await readFull(file, buffer);
    if (n === 0) break;
    const bytes = buffer.subarray(0, n);
    if (first) checkEncoding(bytes, source);
    first = false;
    yield decoder.decode(bytes, { stream: true });
  }
  const rest = decoder.decode();
  if (rest !== "") yield rest;
}

/** How many LF bytes the file holds: a bound on its number of records, read without decoding. */
export async function countLineFeeds(path: string | URL, source: string): Promise<number> {
  using file = await open(path, source);
  const buffer = new Uint8Array(CHUNK);
  let lines = 0;
  for (;;) {
    const n = await readFull(file, buffer);
    if (n === 0) return lines;
    const bytes = buffer.subarray(0, n);
    for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) lines++;
  }
}

/** Reads until `buffer` is full or the file ends; the number of bytes read. */
async function readFull(file: Deno.FsFile, buffer: Uint8Array): Promise<number> {
  let n = 0;
  while (n < buffer.length) {
    const got = await file.read(buffer.subarray(n));
    if (got === null) break;
    n += got;
  }
  return n;
}
