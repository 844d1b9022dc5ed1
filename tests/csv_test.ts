// Tests for the streaming CSV loader (lib/data/csv.ts): agreement with the old csv-parse loader,
// header detection, encodings, label checks, size limits, the row reader and peak memory.

import assert from "node:assert/strict";
import { parse } from "npm:csv-parse@7.0.3/sync";
import {
  DataError,
  DECIMAL,
  type LabeledData,
  loadLabeledCsv,
  parseLabeledCsv,
  readCsvRows,
} from "../lib/data/csv.ts";
import { isDecimal } from "../lib/data/_csv_numeric.ts";
import { parseRecords, streamRecords } from "../lib/data/_csv_records.ts";
import { Matrix } from "../lib/matrix.ts";
import { createRng } from "../lib/random.ts";
import {
  findRealData,
  HTRU2_SHAPE,
  htru2LikeCsv,
  needsPulsarData,
  pulsarCsvPath,
  runDeno,
  withTempDir,
} from "./_helpers.ts";

/**
 * The loader as it was before streaming (csv-parse's sync API), kept as the reference the
 * streaming loader must agree with: the same numbers, names and labels where it succeeds.
 */
function referenceParse(text: string): LabeledData {
  const records = parse(text, {
    trim: true,
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
  }) as string[][];
  if (records.length < 2) throw new Error("no data rows");
  const [names, ...rows] = records;
  if (new Set(names).size !== names.length || names.length < 2) throw new Error("bad header");
  const features = names.length - 1;
  const X = new Float64Array(rows.length * features);
  const labels = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    if (row.length !== names.length) throw new Error("ragged");
    row.forEach((cell, j) => {
      const value = Number(cell);
      if (!DECIMAL.test(cell) || !Number.isFinite(value)) throw new Error(`bad cell ${cell}`);
      if (j < features) X[i * features + j] = value;
      else if (!Number.isInteger(value) || value < 0) throw new Error("bad label");
      else labels[i] = value;
    });
  });
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  if (classes.length < 2) throw new Error("single class");
  return {
    X: new Matrix(rows.length, features, X),
    labels,
    featureNames: names.slice(0, -1),
    labelName: names[features],
    classes,
  };
}

/** Asserts two data sets are the same bit for bit. */
function assertSameData(actual: LabeledData, expected: LabeledData, what: string): void {
  assert.equal(actual.X.rows, expected.X.rows, `${what}: rows`);
  assert.equal(actual.X.cols, expected.X.cols, `${what}: cols`);
  const bits = (a: Float64Array) => new BigUint64Array(Float64Array.from(a).buffer);
  assert.deepEqual(bits(actual.X.data), bits(expected.X.data), `${what}: X`);
  assert.deepEqual([...actual.labels], [...expected.labels], `${what}: labels`);
  assert.deepEqual(actual.featureNames, expected.featureNames, `${what}: featureNames`);
  assert.equal(actual.labelName, expected.labelName, `${what}: labelName`);
  assert.deepEqual(actual.classes, expected.classes, `${what}: classes`);
}

/** Asserts `fn` throws (or rejects with) a DataError whose message holds every part. */
async function assertDataError(fn: () => unknown, ...parts: string[]): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof DataError, `expected a DataError, got ${e}`);
    for (const part of parts) assert.ok(e.message.includes(part), `${part} in: ${e.message}`);
    return e.message;
  }
  throw new assert.AssertionError({ message: `expected a DataError with ${parts.join(", ")}` });
}

needsPulsarData.test("the streaming loader reads the pulsar file to the same Float64 values as csv-parse", async () => {
  const path = await pulsarCsvPath();
  const expected = referenceParse(await Deno.readTextFile(path));
  assertSameData(await loadLabeledCsv(path), expected, "loadLabeledCsv");
  assertSameData(parseLabeledCsv(await Deno.readTextFile(path)), expected, "parseLabeledCsv");
  const shared = await loadLabeledCsv(path, { shared: true });
  assert.equal(shared.X.isShared, true);
  assertSameData(shared, expected, "shared");
});

Deno.test("the streaming loader agrees with csv-parse on quoting, CRLF, blank lines and spaces", async (t) => {
  const cases: [string, string][] = [
    ["quoted fields", 'a,"b",label\n"1.5", "2" ,0\n"3",4,"1"\n'],
    ["quoted header with a comma", '"a,1",b,label\n1,2,0\n3,4,1\n'],
    ["escaped quotes in a name", '"say ""hi""",b,label\n1,2,0\n3,4,1\n'],
    ["a newline in a quoted name", '"two\nlines",b,label\n1,2,0\n3,4,1\n'],
    ["CRLF", "a,b,label\r\n1,2,0\r\n3,4,1\r\n"],
    ["CRLF without a final newline", "a,b,label\r\n1,2,0\r\n3,4,1"],
    ["no final newline", "a,b,label\n1,2,0\n3,4,1"],
    ["blank lines", "\n\na,b,label\n\n1,2,0\n\n\n3,4,1\n\n"],
    ["CRLF blank lines", "\r\na,b,label\r\n\r\n1,2,0\r\n3,4,1\r\n\r\n"],
    ["spaces and tabs", " a ,\tb\t, label \n  1 ,\t2, 0\n3 , 4 ,1 \n"],
    ["a UTF-8 BOM", "\ufeffa,b,label\n1,2,0\n3,4,1\n"],
    ["exponents and signs", "a,b,label\n-1.5e2,+.25,0\n3.,1E-3,1\n"],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => assertSameData(parseLabeledCsv(text), referenceParse(text), name));
  }
});

Deno.test("the records are the same however the text is cut into chunks", async () => {
  const rng = createRng(7);
  // Papaparse guesses the line end from the first piece (a real file's first 64 KB; here a
  // short piece that ends in a CR, or whose CRs stray quotes hide, could mislead it) and takes
  // it as the only one: LF or CRLF, one kind a text; CR alone is tested below.
  const common = ["1", "2.5", " ", ",", '"', '""', '"3"', "\t", "x"];
  for (let trial = 0; trial < 400; trial++) {
    const tokens = [...common, ["\n", "\r\n"][trial % 2]];
    const length = 1 + Math.floor(rng.next() * 30);
    const text = Array.from({ length }, () => tokens[Math.floor(rng.next() * tokens.length)]).join(
      "",
    );
    const whole = scanText(text);
    assert.deepEqual(await scanAll([text]), whole, `streamed whole: ${JSON.stringify(text)}`);
    // The line end is guessed from the first piece: cut after the first line end.
    const first = text.search(/\r\n|\n|\r/);
    if (first < 0 || (text[first] === "\r" && first + 1 === text.length)) continue;
    const from = first + (text.startsWith("\r\n", first) ? 2 : 1);
    let cut = from + Math.floor(rng.next() * (text.length - from + 1));
    if (text[cut - 1] === "\r") cut++; // a first piece ending in CR makes papaparse guess CR
    const pieces = [text.slice(0, cut), text.slice(cut)];
    assert.deepEqual(await scanAll(pieces), whole, `cut at ${cut}: ${JSON.stringify(text)}`);
    const chars = [text.slice(0, from), ...text.slice(from)];
    assert.deepEqual(await scanAll(chars), whole, `one at a time: ${JSON.stringify(text)}`);
  }
});

Deno.test("lines ending in CR alone are read whole and cut", async () => {
  const text = 'a,"b\rc"\r1, 2\r\r 3 ,4\r';
  const expected = [[1, "a", "b\rc"], [3, "1", "2"], [5, "3", "4"]];
  assert.deepEqual(scanText(text), expected);
  // The line end is guessed from the first piece: a first piece without one is taken as LF.
  for (let cut = text.indexOf('"\r') + 2; cut <= text.length; cut++) {
    assert.deepEqual(await scanAll([text.slice(0, cut), text.slice(cut)]), expected, `${cut}`);
  }
});

/** The records (each with its line first), or the error, for `text` parsed at once. */
function scanText(text: string): (string | number)[][] | string {
  const records: (string | number)[][] = [];
  try {
    parseRecords(text, "t.csv", (cells, line) => records.push([line, ...cells]));
  } catch (e) {
    return (e as Error).message;
  }
  return records;
}

/** The records (each with its line first), or the error, for `pieces` streamed in turn. */
async function scanAll(pieces: string[]): Promise<(string | number)[][] | string> {
  const records: (string | number)[][] = [];
  async function* chunks() {
    yield* pieces;
  }
  try {
    for await (
      const _ of streamRecords(chunks(), "t.csv", (cells, line) => records.push([line, ...cells]))
    ) { /* drain */ }
  } catch (e) {
    return (e as Error).message;
  }
  return records;
}

Deno.test("the records agree with csv-parse on random numeric-looking text", () => {
  const rng = createRng(11);
  // csv-parse takes the first line end as the only one; mixed line ends are compared elsewhere.
  const cells = ["1", "2.5", '"4"', '" 5 "', "-0", "1e3", "", " 7 ", "\t8", '"a,""b"""', " "];
  const pick = <T>(xs: T[]) => xs[Math.floor(rng.next() * xs.length)];
  let compared = 0;
  for (let trial = 0; trial < 400; trial++) {
    const rows = Array.from(
      { length: 1 + Math.floor(rng.next() * 5) },
      () => Array.from({ length: Math.floor(rng.next() * 4) }, () => pick(cells)).join(","),
    );
    const end = pick(["", "\n", "\n\n"]);
    const text = rows.join(trial % 2 === 0 ? "\n" : "\r\n") +
      end.replaceAll("\n", trial % 2 ? "\r\n" : "\n");
    let expected: string[][];
    try {
      expected = parse(text, { trim: true, skip_empty_lines: true, relax_column_count: true });
    } catch {
      continue; // csv-parse refuses it; the loader's own errors are tested elsewhere
    }
    const got = scanText(text);
    assert.ok(typeof got !== "string", `${JSON.stringify(text)}: ${got}`);
    // Spaces inside quotes are trimmed too (papaparse does not say which cells were quoted),
    // and a line of only spaces is a record of one empty cell to csv-parse and blank to us.
    const kept = expected.map((r) => r.map((cell) => cell.trim()))
      .filter((r) => r.length > 1 || r[0] !== "");
    assert.deepEqual(got.map((r) => r.slice(1)), kept, JSON.stringify(text));
    compared++;
  }
  assert.ok(compared > 300, `only ${compared} texts compared`);
});

Deno.test("the fast number check accepts exactly the finite numbers DECIMAL accepts", () => {
  const rng = createRng(3);
  const chars = [..."0123456789+-.eExXbBoO \tI", "\u00a0", "Infinity"];
  for (let trial = 0; trial < 200_000; trial++) {
    const length = Math.floor(rng.next() * 7);
    const s = Array.from({ length }, () => chars[Math.floor(rng.next() * chars.length)]).join("");
    const expected = DECIMAL.test(s) && Number.isFinite(Number(s));
    assert.equal(isDecimal(s) && Number.isFinite(+s), expected, JSON.stringify(s));
  }
});

// The full UCI file (no header): ../shared/data/ or data/ as `deno task data` writes it.
const HTRU2_CSV = findRealData("HTRU_2.csv");

Deno.test({
  name: "the real HTRU_2.csv has no header: refused with a hint, and read with header: false",
  ignore: HTRU2_CSV === undefined,
}, async () => {
  const path = HTRU2_CSV!.path;
  const message = await assertDataError(
    () => loadLabeledCsv(path),
    path,
    "line 1",
    "only numbers",
    '"140.5625"',
    "--no-header",
    "header: false",
  );
  assert.ok(!message.includes("\0"));
  const data = await loadLabeledCsv(path, { header: false });
  assert.equal(data.X.rows, 17_898);
  assert.equal(data.X.cols, 8);
  assert.deepEqual(data.featureNames, Array.from({ length: 8 }, (_, j) => `column ${j + 1}`));
  assert.equal(data.labelName, "column 9");
  assert.equal(data.X.data[0], 140.5625);
  assert.equal(data.labels.reduce((a, b) => a + b, 0), 1639);
  const names = [...data.featureNames, data.labelName].map((name) => `"${name}"`).join(",");
  const expected = referenceParse(`${names}\n${await Deno.readTextFile(path)}`);
  assertSameData(data, expected, "HTRU_2.csv against csv-parse");
  assertSameData(
    await loadLabeledCsv(path, { header: false, label: "column 9" }),
    data,
    "label by name",
  );
  assertSameData(await loadLabeledCsv(path, { header: false, label: 9 }), data, "by position");
});

Deno.test("header: false numbers the columns and takes the label by name or position", async () => {
  const text = "1,0,5\n2,1,6\n";
  const last = parseLabeledCsv(text, { header: false });
  assert.deepEqual(last.X.toArray(), [[1, 0], [2, 1]]);
  assert.deepEqual([...last.labels], [5, 6]);
  const second = parseLabeledCsv(text, { header: false, label: 2 });
  assert.deepEqual(second.X.toArray(), [[1, 5], [2, 6]]);
  assert.deepEqual(second.featureNames, ["column 1", "column 3"]);
  assert.deepEqual(second, parseLabeledCsv(text, { header: false, label: "column 2" }));
  await assertDataError(() => parseLabeledCsv(text, { header: false, label: 4 }), "columns 1 to 3");
  await assertDataError(
    () => parseLabeledCsv(text, { header: false, label: "2" }),
    'no column is named "2"',
    "give the number 2",
  );
  await assertDataError(
    () => parseLabeledCsv("1,0\nx,1\n", { header: false, source: "h.csv" }),
    'h.csv, line 2, column "column 1": value "x" is not a number',
  );
});

Deno.test("a file without a header is refused with the --no-header hint, and read with header: false (12.9)", async () => {
  await withTempDir("denograd_csv_test_", async (dir) => {
    // The generated stand-in for UCI's HTRU_2.csv: no header, 17,898 rows, 1,639 pulsars.
    const text = htru2LikeCsv();
    const first = text.slice(0, text.indexOf(","));
    const path = `${dir}/HTRU_2.csv`;
    await Deno.writeTextFile(path, `\n${text}`);
    const parts = ["line 2", "only numbers", `"${first}"`, "--no-header", "header: false"];
    await assertDataError(() => loadLabeledCsv(path), path, ...parts);
    await assertDataError(() => readCsvRows(path).next(), path, ...parts);
    await assertDataError(() => parseLabeledCsv(text, { source: "h.csv" }), "h.csv, line 1");
    const data = await loadLabeledCsv(path, { header: false });
    assert.deepEqual(data.X.shape, [HTRU2_SHAPE.rows, HTRU2_SHAPE.cols - 1]);
    assert.equal(data.labelName, `column ${HTRU2_SHAPE.cols}`);
    assert.equal(data.labels.reduce((a, b) => a + b, 0), HTRU2_SHAPE.pulsars);
    // A header with a name among numbers is a header.
    const mixed = parseLabeledCsv("x,2019,label\n1,2,0\n3,4,1\n");
    assert.deepEqual(mixed.featureNames, ["x", "2019"]);
  });
});

Deno.test("quoting mistakes name the file and the line of their row", async () => {
  await withTempDir("denograd_csv_test_", async (dir) => {
    const path = `${dir}/q.csv`;
    const rows = Array.from({ length: 30_000 }, (_, i) => `${i},${i % 2}`);
    for (
      const [text, line, what] of [
        [`x,label\n${rows.join("\n")}\n"1,0\n2,1\n`, 30_002, "Quote Not Closed"],
        [`x,label\n${rows.join("\n")}\n"1"2,0\n2,1\n`, 30_002, "Invalid Closing Quote"],
        ['x,label\n1,0\n"2"x,1\n', 3, "Invalid Closing Quote"],
      ] as const
    ) {
      await Deno.writeTextFile(path, text);
      await assertDataError(() => loadLabeledCsv(path), `${path}, line ${line}: ${what}`);
      await assertDataError(
        () => parseLabeledCsv(text, { source: "q.csv" }),
        `q.csv, line ${line}: ${what}`,
      );
      const read = async () => {
        for await (const _ of readCsvRows(path)) { /* drain */ }
      };
      await assertDataError(read, `${path}, line ${line}: ${what}`);
    }
  });
});

Deno.test("a header with an empty column name is refused, naming its position", async () => {
  await assertDataError(
    () => parseLabeledCsv("a,,label\n1,2,0\n3,4,1\n", { source: "e.csv" }),
    "e.csv, line 1",
    "column 2 of the header has no name",
  );
  await assertDataError(
    () => parseLabeledCsv("\n\na, b ,\n1,2,0\n", { source: "e.csv" }),
    "e.csv, line 3",
    "column 3",
  );
});

Deno.test("UTF-16 files are refused plainly, without NUL bytes in the message", async (t) => {
  const text = "ip_mean,label\n 102.50781,0\n 3.5,1\n";
  const utf16le = (s: string) => new Uint8Array(Uint16Array.from(s, (c) => c.charCodeAt(0)).buffer);
  const be = (bytes: Uint8Array) => bytes.map((_, i) => bytes[i ^ 1]);
  const cases: [string, Uint8Array, string][] = [
    ["UTF-16LE with a BOM", new Uint8Array([0xff, 0xfe, ...utf16le(text)]), "UTF-16LE"],
    ["UTF-16BE with a BOM", be(new Uint8Array([0xff, 0xfe, ...utf16le(text)])), "UTF-16BE"],
    ["UTF-16LE without a BOM", utf16le(text), "NUL bytes"],
  ];
  await withTempDir("denograd_csv_test_", async (dir) => {
    for (const [name, bytes, what] of cases) {
      await t.step(name, async () => {
        const path = `${dir}/${name.replaceAll(" ", "_")}.csv`;
        await Deno.writeFile(path, bytes);
        for (const load of [() => loadLabeledCsv(path), () => readCsvRows(path).next()]) {
          const message = await assertDataError(load, path, what, "UTF-8");
          assert.ok(!message.includes("\0"), message);
        }
        const decoded = await Deno.readTextFile(path); // what a caller of parseLabeledCsv has
        await assertDataError(() => parseLabeledCsv(decoded, { source: path }), path, "UTF-8");
      });
    }
    await t.step("a UTF-8 BOM is dropped silently", async () => {
      const path = `${dir}/bom.csv`;
      await Deno.writeFile(
        path,
        new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]),
      );
      assert.deepEqual((await loadLabeledCsv(path)).featureNames, ["ip_mean"]);
    });
  });
});

Deno.test("classes: a label outside 0..classes-1 names the file, line, column and label", async () => {
  const rows = Array.from({ length: 50 }, (_, i) => `${i},${i === 40 ? 2 : i % 2}`);
  const text = `x,label\n${rows.join("\n")}\n`;
  assert.deepEqual(parseLabeledCsv(text).classes, [0, 1, 2], "unchecked without classes");
  await assertDataError(
    () => parseLabeledCsv(text, { classes: 2, source: "l.csv" }),
    'l.csv, line 42, column "label": label "2" is outside the 2 expected classes (0 to 1)',
  );
  assert.deepEqual(parseLabeledCsv(text, { classes: 3 }).classes, [0, 1, 2]);
  await assertDataError(
    () => parseLabeledCsv("x,label\n1,0\n2,-1\n", { classes: 2 }),
    'line 3, column "label": label "-1" is not a class',
  );
});

Deno.test("maxBytes refuses a file that is too large, naming it and its size", async () => {
  await withTempDir("denograd_csv_test_", async (dir) => {
    const path = `${dir}/big.csv`;
    await Deno.writeTextFile(path, "a,label\n" + "1.25,0\n2.5,1\n".repeat(1000));
    await assertDataError(
      () => loadLabeledCsv(path, { maxBytes: 1000 }),
      path,
      "the file is 13.0 KB",
      "1.0 KB",
      "maxBytes",
    );
    await assertDataError(
      () => loadLabeledCsv(path, { maxBytes: 15_000 }),
      path,
      "rows of 1 feature need 24.0 KB",
      "more than maxBytes (15.0 KB)",
    );
    assert.equal((await loadLabeledCsv(path, { maxBytes: 30_000 })).X.rows, 2000);
  });
});

needsPulsarData.test("readCsvRows streams the pulsar file in batches equal to loadLabeledCsv's rows", async () => {
  const path = await pulsarCsvPath();
  const data = await loadLabeledCsv(path);
  const values: number[] = [];
  const lines: number[] = [];
  let batches = 0;
  for await (const batch of readCsvRows(path, { batchRows: 1000 })) {
    assert.equal(batch.columns.length, 9);
    assert.equal(batch.values.length, batch.rows * 9);
    values.push(...batch.values);
    lines.push(...batch.lines);
    batches++;
  }
  assert.equal(batches, 4);
  assert.equal(lines.length, 3278);
  assert.deepEqual(lines.slice(0, 2), [2, 3]);
  const features = values.filter((_, k) => k % 9 !== 8);
  assert.deepEqual(features, [...data.X.data]);
  assert.deepEqual(values.filter((_, k) => k % 9 === 8), [...data.labels]);
});

Deno.test("readCsvRows reports bad rows and files like the loader", async () => {
  await withTempDir("denograd_csv_test_", async (dir) => {
    const path = `${dir}/r.csv`;
    await Deno.writeTextFile(path, "a,b\n1,2\n3\n");
    const read = async () => {
      for await (const _ of readCsvRows(path)) { /* drain */ }
    };
    await assertDataError(read, path, "line 3", "expected 2 cells", "found 1");
    await Deno.writeTextFile(path, "");
    await assertDataError(read, path, "empty");
    await assertDataError(() => readCsvRows(`${dir}/nowhere.csv`).next(), "file not found");
  });
});

Deno.test("readCsvRows keeps a default batch near a million numbers for a wide file", async () => {
  await withTempDir("denograd_csv_test_", async (dir) => {
    const path = `${dir}/wide.csv`;
    const width = 100_000; // 10 rows of 100,000 numbers a batch
    const row = (i: number) => Array.from({ length: width }, (_, j) => (i + j) % 7).join(",");
    const names = Array.from({ length: width }, (_, j) => `c${j}`).join(",");
    await Deno.writeTextFile(
      path,
      [names, ...Array.from({ length: 12 }, (_, i) => row(i))].join("\n"),
    );
    const sizes: number[] = [];
    for await (const batch of readCsvRows(path)) {
      sizes.push(batch.rows);
      assert.equal(
        batch.values[batch.values.length - 1],
        (batch.lines[batch.rows - 1] - 2 + width - 1) % 7,
      );
    }
    assert.deepEqual(sizes, [10, 2]);
  });
});

Deno.test("loadLabeledCsv reads a named pipe, which cannot be read twice", async () => {
  await withTempDir("denograd_csv_test_", async (dir) => {
    const path = `${dir}/pipe.csv`;
    const made = await new Deno.Command("mkfifo", { args: [path] }).output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    const rows = Array.from({ length: 5000 }, (_, i) => `${i / 4},${i % 3}`);
    const writing = Deno.writeTextFile(path, `x,label\n${rows.join("\n")}\n`);
    const data = await loadLabeledCsv(path);
    await writing;
    assert.equal(data.X.rows, 5000);
    assert.equal(data.X.data[4999], 4999 / 4);
    assert.deepEqual(data.classes, [0, 1, 2]);
  });
});

// A 2-vCPU machine shared with other work: generous, but far below the old ~10x to 21x.
const MEMORY_TEST_MB = 120;

Deno.test("a 120 MB file loads under twice its size in memory and streams at over 200k rows/s", async () => {
  await withTempDir("denograd_csv_memory_", async (dir) => {
    const path = `${dir}/big.csv`;
    const bytes = await writeShortRows(path, MEMORY_TEST_MB * 1e6);
    const script = `${dir}/load.ts`;
    const csv = JSON.stringify(new URL("../lib/data/csv.ts", import.meta.url).href);
    await Deno.writeTextFile(
      script,
      `import { loadLabeledCsv, readCsvRows } from ${csv};
const data = await loadLabeledCsv(Deno.args[0]);
const hwm = /VmHWM:\\s+(\\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"))![1];
const start = performance.now();
let streamed = 0;
for await (const batch of readCsvRows(Deno.args[0])) streamed += batch.rows;
const rate = streamed / ((performance.now() - start) / 1000);
console.log(JSON.stringify({ rows: data.X.rows, peak: Number(hwm) * 1024, streamed, rate }));`,
    );
    // --allow-all: Deno asks for every permission before it lets a script read /proc/self.
    const { code, stdout, stderr } = await runDeno(["run", "--allow-all", script, path]);
    assert.equal(code, 0, stderr);
    const { rows, peak, streamed, rate } = JSON.parse(stdout);
    assert.ok(rows > 5e6 && streamed === rows, `${rows} rows loaded, ${streamed} streamed`);
    const bound = 2 * bytes + 100e6;
    assert.ok(peak < bound, `peak RSS ${(peak / 1e6).toFixed(0)} MB over ${bound / 1e6} MB`);
    // Papaparse streamed these short rows at 0.8M to 2.2M rows/s on a busy 2-vCPU machine (load
    // 7-10): the floor is issue 14's predict target, met with a margin of 4 or more.
    assert.ok(rate > 200_000, `readCsvRows streamed ${rate.toFixed(0)} rows/s`);
  });
});

/** Writes about `target` bytes of short rows ("12.5,0.25,1"), the worst case for the old loader. */
async function writeShortRows(path: string, target: number): Promise<number> {
  const rows = Array.from(
    { length: 50_000 },
    (_, i) => `${(i % 997) / 8},${(i % 89) / 4},${i % 2}`,
  );
  const block = new TextEncoder().encode(rows.join("\n") + "\n");
  await Deno.writeTextFile(path, "a,b,label\n");
  let written = 10;
  while (written < target) {
    await Deno.writeFile(path, block, { append: true });
    written += block.length;
  }
  return written;
}
