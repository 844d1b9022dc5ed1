// Tests for lib/data (CSV loading, the HTRU2 download and balancing) and lib/_fs.ts.

import assert from "node:assert/strict";
import { strToU8, zipSync } from "npm:fflate@0.8.3";
import { writeFileAtomic } from "../lib/_fs.ts";
import {
  findRealData,
  HTRU2_SHAPE,
  htru2LikeCsv,
  htru2Zip,
  needsPulsarData,
  PULSAR_DATA,
  pulsarCsvPath,
  runDeno,
  withServer,
  withTempDir,
  zipResponse,
} from "./_helpers.ts";
import { DataError, loadLabeledCsv, oneHot, parseLabeledCsv } from "../lib/data/csv.ts";
import {
  balanceHtru2,
  downloadBytes,
  ensurePulsarData,
  extractHtru2Csv,
  HTRU2_MAX_BYTES,
  HTRU2_URL,
  PULSAR_COLUMNS,
} from "../lib/data/htru2.ts";
import {
  type DataConfig,
  DEFAULT_DATA,
  ensureDefaultData,
  parseDataArgs,
  retryCommand,
} from "../scripts/data.ts";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../scripts/_flags.ts";

// Mechanics run on a generated stand-in with the real shape; the real file is only for the
// tests registered with pulsarTest (or ignored when HTRU_2.csv is missing).
const readHtru2 = () => Promise.resolve(htru2LikeCsv());

/** Asserts `promise` rejects with a DataError whose message contains every part. */
async function assertDataError(promise: Promise<unknown>, ...parts: string[]): Promise<void> {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof DataError, `expected a DataError, got ${e}`);
    for (const part of parts) assert.ok(e.message.includes(part), `${part} in: ${e.message}`);
    return true;
  });
}

needsPulsarData.test("loadLabeledCsv reads the pulsar file: 3,278 rows, 8 features, balanced", async () => {
  const csv = await pulsarCsvPath();
  const data = await loadLabeledCsv(csv);
  assert.deepEqual(data.X.shape, [3278, 8]);
  assert.deepEqual(data.featureNames, PULSAR_COLUMNS.slice(0, 8));
  assert.equal(data.labelName, "label");
  assert.deepEqual(data.classes, [0, 1]);
  assert.equal(data.labels.filter((l) => l === 1).length, 1639);
  assert.equal(data.labels.filter((l) => l === 0).length, 1639);
  assert.ok(data.X.data.every(Number.isFinite));
  // The shared file's first row, as the notebook rounded it; data/ has its own rows.
  if (PULSAR_DATA!.shared) {
    assert.deepEqual(data.X.toArray()[0], [
      102.50781,
      58.88243,
      0.46532,
      -0.51509,
      1.67726,
      14.86015,
      10.57649,
      127.39358,
    ]);
  }
});

const REAL_HTRU2 = findRealData("HTRU_2.csv");

Deno.test({
  name: "the real HTRU_2.csv has HTRU2's shape and balances to 3,278 rows",
  ignore: REAL_HTRU2 === undefined,
  fn: async () => {
    const text = await Deno.readTextFile(REAL_HTRU2!.path);
    const rows = text.trim().split("\n");
    assert.equal(rows.length, HTRU2_SHAPE.rows);
    assert.ok(rows.every((r) => r.split(",").length === HTRU2_SHAPE.cols));
    assert.equal(rows.filter((r) => r.endsWith(",1")).length, HTRU2_SHAPE.pulsars);
    assert.equal(balanceHtru2(text).trim().split("\n").length, 1 + 3278);
  },
});

needsPulsarData.test("loadLabeledCsv puts X in shared memory when asked", async () => {
  const csv = await pulsarCsvPath();
  assert.equal((await loadLabeledCsv(csv, { shared: true })).X.isShared, true);
  assert.equal((await loadLabeledCsv(csv)).X.isShared, false);
});

Deno.test("parseLabeledCsv takes the label column by name", () => {
  const data = parseLabeledCsv("y, a, b\n1, 2, 3\n0, 5, 6\n2, 8, 9\n", { label: "y" });
  assert.deepEqual(data.X.toArray(), [[2, 3], [5, 6], [8, 9]]);
  assert.deepEqual([...data.labels], [1, 0, 2]);
  assert.deepEqual(data.featureNames, ["a", "b"]);
  assert.equal(data.labelName, "y");
  assert.deepEqual(data.classes, [0, 1, 2]);
});

Deno.test("parseLabeledCsv accepts exponents, signs, blank lines and a BOM", () => {
  const data = parseLabeledCsv("\ufeffa,label\n-1.5e2,0\n\n+.25,1\n\n");
  assert.deepEqual(data.X.toArray(), [[-150], [0.25]]);
  assert.deepEqual([...data.labels], [0, 1]);
});

Deno.test("parseLabeledCsv reads headerless text given column names, counting lines from 1", () => {
  const data = parseLabeledCsv("1,0\n2,1\n", { header: ["x", "label"] });
  assert.deepEqual(data.X.toArray(), [[1], [2]]);
  assert.throws(
    () => parseLabeledCsv("1,0\nx,1\n", { header: ["x", "label"], source: "h.csv" }),
    /h\.csv, line 2, column "x": value "x" is not a number/,
  );
});

needsPulsarData.test("oneHot gives the pulsar targets [label == 0, label == 1]", async () => {
  const csv = await pulsarCsvPath();
  const { labels } = await loadLabeledCsv(csv);
  const Y = oneHot(labels, 2, { shared: true });
  assert.deepEqual(Y.shape, [3278, 2]);
  assert.equal(Y.isShared, true);
  for (let i = 0; i < labels.length; i++) {
    assert.deepEqual(
      [Y.data[2 * i], Y.data[2 * i + 1]],
      [Number(labels[i] === 0), Number(labels[i] === 1)],
    );
  }
});

Deno.test("oneHot rejects labels outside [0, numClasses) and empty labels", () => {
  assert.throws(() => oneHot([0, 2], 2), RangeError, "label 2 at index 1 is outside [0, 2)");
  assert.throws(() => oneHot([0, -1], 2), RangeError, "label -1 at index 1");
  assert.throws(() => oneHot([0.5], 2), RangeError, "label 0.5 at index 0");
  assert.throws(() => oneHot([], 2), RangeError, "labels is empty");
  assert.throws(() => oneHot([0], 0), RangeError, "numClasses must be a positive integer");
});

Deno.test("loadLabeledCsv errors name the file, line, column and value", async (t) => {
  await withTempDir("denograd_data_test_", async (dir) => {
    const cases: [name: string, text: string, parts: string[], label?: string][] = [
      ["empty file", "", ["the file is empty"]],
      ["blank file", "\n\n", ["the file is empty"]],
      ["header-only file", "a,b,label\n", ["header but no data rows"]],
      ["ragged row", "a,b,label\n1,2,0\n1,2\n", ["line 3", "expected 3 cells", "found 2"]],
      ["long row", "a,b,label\n1,2,0,9\n", ["line 2", "expected 3 cells", "found 4"]],
      ["non-numeric cell", "a,b,label\n1,2,0\n1, abc ,1\n", ["line 3", 'column "b"', '"abc"']],
      ["hex cell", "a,b,label\n0x1F,2,0\n", ["line 2", 'column "a"', '"0x1F" is not a number']],
      ["NaN cell", "a,b,label\n1,NaN,0\n", ["line 2", 'column "b"', '"NaN" is not a finite']],
      ["Infinity cell", "a,b,label\n-Infinity,1,0\n", ['column "a"', '"-Infinity"', "finite"]],
      ["overflowing cell", "a,b,label\n1e999,1,0\n", ['column "a"', '"1e999"', "finite"]],
      ["empty cell", "a,b,label\n1,2,0\n1, ,1\n", ["line 3", 'column "b"', "the cell is empty"]],
      ["empty label", "a,b,label\n1,2,\n", ["line 2", 'column "label"', "empty"]],
      ["unknown label", "a,b,label\n1,2,0\n", ['no column is named "y"', "a, b, label"], "y"],
      ["negative label", "a,b,label\n1,2,0\n1,2,-1\n", ["line 3", 'column "label"', '"-1"']],
      ["fractional label", "a,b,label\n1,2,0.5\n", ["line 2", 'column "label"', '"0.5"']],
      ["single class", "a,b,label\n1,2,1\n3,4,1\n", ['column "label"', "single class (1)"]],
      ["duplicate column", "a,a,label\n1,2,0\n", ['column "a" appears twice']],
      ["label only", "label\n0\n1\n", ["expected feature columns and a label column"]],
      ["broken quoting", 'a,b,label\n1,"2,0\n', ["Quote Not Closed"]],
    ];
    for (const [name, text, parts, label] of cases) {
      await t.step(name, async () => {
        const path = `${dir}/${name.replaceAll(" ", "_")}.csv`;
        await Deno.writeTextFile(path, text);
        await assertDataError(loadLabeledCsv(path, { label }), path, ...parts);
      });
    }
    await t.step("missing file", async () => {
      const path = `${dir}/nowhere.csv`;
      await assertDataError(loadLabeledCsv(path), path, "file not found");
    });
  });
});

Deno.test("balanceHtru2 keeps every pulsar and a seeded half of non-pulsars, in file order", async () => {
  const text = await readHtru2();
  const source = text.trim().split("\n").map((line) => line.split(",").map(Number).join(","));
  const csv = balanceHtru2(text, { seed: 0 });
  assert.equal(csv, balanceHtru2(text, { seed: 0 }), "same seed, same file");
  assert.notEqual(csv, balanceHtru2(text, { seed: 1 }), "another seed, other rows");

  const [header, ...rows] = csv.trim().split("\n");
  assert.equal(header, PULSAR_COLUMNS.join(","));
  assert.equal(rows.length, 3278);
  assert.equal(rows.filter((r) => r.endsWith(",1")).length, 1639);
  assert.equal(rows.filter((r) => r.endsWith(",0")).length, 1639);
  let at = -1;
  for (const row of rows) {
    const found = source.indexOf(row, at + 1);
    assert.ok(found > at, `row ${row} is not in HTRU_2.csv after line ${at + 1}`);
    at = found;
  }
});

Deno.test("balanceHtru2 says what differs from the expected HTRU2", async (t) => {
  const text = await readHtru2();
  const lines = text.trim().split("\n");
  let kept = 0;
  const cases: [name: string, text: string, message: string][] = [
    ["too few rows", lines.slice(1).join("\n"), "expected 17,898 rows, found 17897"],
    ["a header", [PULSAR_COLUMNS.join(","), ...lines].join("\n"), 'line 1, column "ip_mean"'],
    ["a missing column", lines.map((l) => l.slice(l.indexOf(",") + 1)).join("\n"), "found 8"],
    ["other labels", lines.map((l) => l.replace(/,1$/, ",2")).join("\n"), "must be 0 or 1"],
    [
      "too few pulsars",
      lines.map((l) => l.endsWith(",1") && kept++ >= 9 ? l.replace(/,1$/, ",0") : l).join("\n"),
      "expected 1,639 pulsars (label 1), found 9",
    ],
    [
      "a non-finite cell",
      lines.map((l, i) => i === 99 ? `NaN${l.slice(3)}` : l).join("\n"),
      "line 100",
    ],
  ];
  for (const [name, bad, message] of cases) {
    await t.step(`rejects ${name}`, () => {
      assert.throws(() => balanceHtru2(bad, { source: "x.csv" }), (e) => {
        assert.ok(e instanceof DataError && e.message.startsWith("x.csv"), String(e));
        assert.ok(e.message.includes(message), `${message} in: ${e.message}`);
        return true;
      });
    });
  }
});

Deno.test("ensurePulsarData downloads once, keeps the full HTRU_2.csv and writes the balanced CSV", async () => {
  const zip = await htru2Zip();
  await withServer(() => zipResponse(zip), async (url, requests) => {
    await withTempDir("denograd_data_test_", async (dir) => {
      const path = `${dir}/data/pulsars_tuned.csv`;
      const fullPath = `${dir}/data/HTRU_2.csv`;
      let last = 0;
      assert.equal(
        await ensurePulsarData(path, { url, seed: 7, fullPath, onProgress: (n) => last = n }),
        true,
      );
      assert.equal(last, zip.length, "progress reaches the whole zip");
      assert.deepEqual([...Deno.readDirSync(`${dir}/data`)].map((e) => e.name).sort(), [
        "HTRU_2.csv",
        "pulsars_tuned.csv",
      ]);
      assert.equal(await Deno.readTextFile(fullPath), htru2LikeCsv(), "the member, as is");
      assert.equal(requests(), 1, "one download serves both files");

      const data = await loadLabeledCsv(path);
      assert.deepEqual(data.X.shape, [3278, 8]);
      assert.equal(data.labels.filter((l) => l === 1).length, 1639);
      assert.equal(data.labels.filter((l) => l === 0).length, 1639);
      const source = new Set(
        (await readHtru2()).trim().split("\n").map((l) => l.split(",").map(Number).join()),
      );
      const rows = data.X.toArray();
      for (let i = 0; i < rows.length; i++) {
        const row = [...rows[i], data.labels[i]].join();
        assert.ok(source.has(row), `output row ${i + 2} (${row}) is not in HTRU_2.csv`);
      }

      const written = await Deno.readTextFile(path);
      assert.equal(await ensurePulsarData(path, { url, fullPath }), false, "existing files kept");
      assert.equal(requests(), 1);
      assert.equal(await ensurePulsarData(path, { url, seed: 7, force: true }), true);
      assert.equal(requests(), 2);
      assert.equal(await Deno.readTextFile(path), written, "same seed, same file");
      await Deno.remove(fullPath);
      assert.equal(await ensurePulsarData(path, { url, seed: 7, fullPath }), true, "full missing");
      assert.equal(requests(), 3);
      assert.equal(await Deno.readTextFile(fullPath), htru2LikeCsv());
    });
  });
});

Deno.test("ensurePulsarData fails clearly and leaves no file on a bad download", async (t) => {
  const csv = strToU8(await readHtru2());
  const zip = await htru2Zip();
  const cases: [name: string, respond: () => Response, parts: string[]][] = [
    ["HTTP 404", () => new Response("not here", { status: 404 }), ["HTTP 404", "Not Found"]],
    ["an HTML page", () => new Response("<html>Moved</html>"), ["not a valid zip archive"]],
    ["a truncated zip", () => zipResponse(zip.slice(0, zip.length >> 1)), ["not a valid zip"]],
    ["an empty body", () => zipResponse(new Uint8Array()), ["not a valid zip archive"]],
    [
      "a zip without HTRU_2.csv",
      () => zipResponse(zipSync({ "Readme.txt": strToU8("hi") })),
      ["no HTRU_2.csv", "Readme.txt"],
    ],
    [
      "a zip with part of the rows",
      () => zipResponse(zipSync({ "HTRU_2.csv": csv.slice(0, 10_000) })),
      ["HTRU_2.csv in"],
    ],
  ];
  for (const [name, respond, parts] of cases) {
    await t.step(name, async () => {
      await withServer(respond, async (url) => {
        await withTempDir("denograd_data_test_", async (dir) => {
          await assertDataError(ensurePulsarData(`${dir}/pulsars.csv`, { url }), url, ...parts);
          assert.deepEqual([...Deno.readDirSync(dir)], [], "the output directory is empty");
        });
      });
    });
  }
  await t.step("an unreachable server", async () => {
    await withTempDir("denograd_data_test_", async (dir) => {
      const url = "http://127.0.0.1:9/htru2.zip"; // the discard port: nothing listens
      await assertDataError(ensurePulsarData(`${dir}/p.csv`, { url }), `Download of ${url} failed`);
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    });
  });
});

Deno.test("parseDataArgs defaults to the experiment's file and takes a seed", () => {
  assert.deepEqual(parseDataArgs([]), {
    out: "data/pulsars_tuned.csv",
    fullOut: "data/HTRU_2.csv",
    url: HTRU2_URL,
    seed: 0,
    force: false,
    connectTimeoutMs: 30_000,
    idleTimeoutMs: 60_000,
  });
  assert.equal(parseDataArgs(["-h"]), "help");
  for (const [text, seed] of [["7", 7], ["-4", -4], ["+3", 3], ["007", 7]] as const) {
    assert.deepEqual(parseDataArgs([`--seed=${text}`]), {
      ...parseDataArgs([]) as DataConfig,
      seed,
    }, text);
  }
});

Deno.test("parseDataArgs rejects what train.ts rejects, naming the flag", async (t) => {
  const badSeeds = ["0x10", " 7", "1e3", "1.5", "", "seven", "99999999999999999999"];
  const cases: [string[], RegExp][] = [
    ...badSeeds.map((text): [string[], RegExp] => [
      [`--seed=${text}`],
      new RegExp(`^--seed must be an integer, got "${RegExp.escape(text)}"$`),
    ]),
    [["--seed", "0x10"], /^--seed must be an integer, got "0x10"$/],
    [["--seeds", "3"], /Unknown option '--seeds'/],
    [["--seed"], /--seed/],
    [["pulsars.csv"], /Unexpected argument "pulsars.csv"/],
    [["--idle-timeout", "0"], /^--idle-timeout must be a positive number of seconds, got "0"$/],
    [["--connect-timeout=-1"], /^--connect-timeout must be a positive number of seconds/],
    [["--connect-timeout", "1e999"], /--connect-timeout must be a positive number/],
    [["--url", "ftp://example.org/x.zip"], /^--url must be an http:, https: or file: URL/],
    [["--url", ""], /^--url must be/],
  ];
  for (const [args, pattern] of cases) {
    await t.step(JSON.stringify(args), () => {
      assert.throws(
        () => parseDataArgs(args),
        (e) => e instanceof UsageError && pattern.test(e.message),
      );
    });
  }
});

Deno.test("scripts/data.ts exits 2 on a bad seed, naming the flag, before touching anything", async () => {
  const { code, stdout, stderr } = await runDeno(["run", "scripts/data.ts", "--seed", "1e3"]);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /^error: --seed must be an integer, got "1e3"\n\nUsage: /);
  assert.equal(stdout, "");
});

/** Runs `fn` with `dir` as the working directory, where DEFAULT_DATA is a relative path. */
async function inDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const cwd = Deno.cwd();
  Deno.chdir(dir);
  try {
    return await fn();
  } finally {
    Deno.chdir(cwd);
  }
}

/** An IO sink recording normal and error lines. */
function lines(): { out: string[]; err: string[]; log(l: string): void; error(l: string): void } {
  const out: string[] = [], err: string[] = [];
  return { out, err, log: (l) => out.push(l), error: (l) => err.push(l) };
}

Deno.test("ensureDefaultData downloads the missing default file once and says so", async () => {
  const zip = await htru2Zip();
  await withServer(() => zipResponse(zip), async (url, requests) => {
    await withTempDir("denograd_data_test_", async (dir) => {
      await inDir(dir, async () => {
        const io = lines();
        assert.equal(await ensureDefaultData(DEFAULT_DATA, io, { url }), true);
        assert.deepEqual(io.out.filter((l) => !l.startsWith("Downloaded ")), [
          `data/pulsars_tuned.csv is missing: downloading HTRU2 from ${url} (once)...`,
          "Wrote data/pulsars_tuned.csv",
        ]);
        const progress = io.out.filter((l) => l.startsWith("Downloaded "));
        // A line per further 10% (a large chunk may cross several at once), ending at 100%.
        assert.ok(progress.length >= 2 && progress.length <= 10, progress.join("\n"));
        assert.match(progress.at(-1)!, /^Downloaded 100% \(\d+ KiB of \d+ KiB\)$/);
        assert.deepEqual(io.err, []);
        assert.equal((await loadLabeledCsv(DEFAULT_DATA)).X.rows, 3278);
        assert.equal(await Deno.readTextFile("data/HTRU_2.csv"), htru2LikeCsv(), "full kept");

        const again = lines();
        assert.equal(await ensureDefaultData(DEFAULT_DATA, again, { url }), true);
        assert.deepEqual([again.out, again.err, requests()], [[], [], 1]);
        // A path the user chose is theirs to get right: no download, whatever is there.
        assert.equal(await ensureDefaultData("elsewhere.csv", again, { url }), true);
        assert.deepEqual([again.out, requests()], [[], 1]);
      });
    });
  });
});

Deno.test("ensureDefaultData reports a failed download with how to retry, and leaves no file", async () => {
  await withServer(() => new Response("not here", { status: 404 }), async (url) => {
    await withTempDir("denograd_data_test_", async (dir) => {
      await inDir(dir, async () => {
        const io = lines();
        assert.equal(await ensureDefaultData(DEFAULT_DATA, io, { url }), false);
        assert.deepEqual(io.err, [
          `error: Download of ${url} failed: HTTP 404 Not Found`,
          `Run \`deno task data --url ${url}\` to retry the download, or pass --data PATH.`,
        ]);
        assert.deepEqual([...Deno.readDirSync(dir)], [], "files left after a failed download");
      });
    });
  });
});

Deno.test("the first-run download (train --data-url) times out too, with the retry command and its timeout flag", async () => {
  await withServer(noAnswer, async (url) => {
    await withTempDir("denograd_data_test_", async (dir) => {
      await inDir(dir, async () => {
        const io = lines();
        const started = performance.now();
        assert.equal(
          await ensureDefaultData(DEFAULT_DATA, io, { url, connectTimeoutMs: 300 }),
          false,
        );
        assert.ok(performance.now() - started < 5000);
        assert.deepEqual(io.err, [
          `error: Download of ${url} failed: no response within 0.3 s (the connect timeout); ` +
          "check the URL and the connection, or allow a longer connect timeout",
          `Run \`deno task data --url ${url} --connect-timeout SECONDS\` to retry with a longer ` +
          "wait than 0.3 s, or pass --data PATH.",
        ]);
        assert.deepEqual([...Deno.readDirSync(dir)], []);
      });
    });
  });
});

Deno.test("the retry hint carries a custom URL over, and is plain for UCI's", () => {
  assert.equal(retryCommand(HTRU2_URL), "deno task data");
  assert.equal(retryCommand("http://mirror/h.zip"), "deno task data --url http://mirror/h.zip");
});

Deno.test("parseDataArgs takes a local path for --url as a file: URL", () => {
  const config = parseDataArgs(["--url", "some/htru2.zip"]) as DataConfig;
  assert.equal(config.url, pathToFileURL(join(Deno.cwd(), "some/htru2.zip")).href);
  assert.equal((parseDataArgs(["--url", "file:///x.zip"]) as DataConfig).url, "file:///x.zip");
});

/**
 * How long the stalling servers below keep stalling when the client never gives up: a download
 * timeout that does not fire then fails its test (wrong error, too slow) instead of hanging it.
 */
const SERVER_GIVES_UP_MS = 20_000;

/**
 * A response announcing `length` bytes (no length if null) that sends `head` bytes, then
 * `drip` bytes every `everyMs` until the client leaves (or {@linkcode SERVER_GIVES_UP_MS}).
 */
function slowResponse(
  request: Request,
  head: number,
  drip = 0,
  everyMs = 50,
  length: number | null = 1_000_000,
): Response {
  let timer: ReturnType<typeof setInterval> | undefined;
  let givingUp: ReturnType<typeof setTimeout> | undefined;
  const stop = () => (clearInterval(timer), clearTimeout(givingUp));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(head)); // not 0: an empty chunk ends the body
      if (drip > 0) timer = setInterval(() => controller.enqueue(new Uint8Array(drip)), everyMs);
      const end = () => {
        stop();
        try {
          controller.close();
        } catch { /* already cancelled by the server */ }
      };
      givingUp = setTimeout(end, SERVER_GIVES_UP_MS);
      request.signal.addEventListener("abort", end);
    },
    cancel: stop,
  });
  const headers: HeadersInit = length === null ? {} : { "content-length": String(length) };
  return new Response(body, { headers });
}

/**
 * Resolves when the client goes away (or after {@linkcode SERVER_GIVES_UP_MS}, with a 504): a
 * server that never answers.
 */
function noAnswer(request: Request): Promise<Response> {
  return new Promise((resolve) => {
    const givingUp = setTimeout(
      () => resolve(new Response(null, { status: 504 })),
      SERVER_GIVES_UP_MS,
    );
    request.signal.addEventListener("abort", () => {
      clearTimeout(givingUp);
      resolve(new Response(null, { status: 499 }));
    });
  });
}

Deno.test("downloads time out, naming the URL and the wait, and leave no file", async (t) => {
  const cases: [
    name: string,
    respond: (r: Request) => Response | Promise<Response>,
    timeout: "connect" | "idle",
    parts: string[],
  ][] = [
    ["a server that never answers", noAnswer, "connect", ["no response within 0.3 s"]],
    [
      "headers and 1,000 bytes, then a stall",
      (r) => slowResponse(r, 1000),
      "idle",
      ["stalled", "in 0.3 s (the idle timeout), after 1,000 bytes"],
    ],
    [
      "a byte every 20 ms",
      (r) => slowResponse(r, 1, 1, 20),
      "idle",
      ["stalled: less than 16 KiB arrived in 0.3 s"],
    ],
  ];
  for (const [name, respond, timeout, parts] of cases) {
    await t.step(name, async () => {
      await withServer(respond, async (url) => {
        await withTempDir("denograd_data_test_", async (dir) => {
          const started = performance.now();
          const promise = ensurePulsarData(`${dir}/p.csv`, {
            url,
            fullPath: `${dir}/HTRU_2.csv`,
            connectTimeoutMs: 300,
            idleTimeoutMs: 300,
          });
          await assertDataError(promise, url, ...parts);
          await promise.catch((e) => assert.equal(e.timeout, timeout));
          const seconds = (performance.now() - started) / 1000;
          assert.ok(seconds < 5, `took ${seconds} s with 0.3 s timeouts`);
          assert.deepEqual([...Deno.readDirSync(dir)], []);
        });
      });
    });
  }
});

Deno.test("scripts/data.ts times out with the flag to change, progress on a pipe, no files", async () => {
  await withServer((r) => slowResponse(r, 200_000), async (url) => {
    await withTempDir("denograd_data_test_", async (dir) => {
      const run = await runDeno([
        ...["run", "--allow-read", "--allow-write", "--allow-net=127.0.0.1", "scripts/data.ts"],
        ...["--out", `${dir}/p.csv`, "--full-out", `${dir}/HTRU_2.csv`, "--url", url],
        ...["--idle-timeout", "0.5"],
      ]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^Downloaded [12]0% \(\d+ KiB of 977 KiB\)$/m);
      assert.ok(run.stderr.includes(`error: Download of ${url} stalled`), run.stderr);
      assert.ok(run.stderr.includes("in 0.5 s (the idle timeout)"), run.stderr);
      assert.ok(run.stderr.includes("pass --idle-timeout SECONDS (now 0.5)"), run.stderr);
      assert.ok(run.stderr.includes(`Run \`deno task data --url ${url}\` to retry.`), run.stderr);
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    });
  });
});

/** A zip whose HTRU_2.csv is `size` zero bytes (about 1 KB of deflate per MB). */
function zipBomb(size: number): Uint8Array {
  return zipSync({ "HTRU_2.csv": new Uint8Array(size) }, { level: 1 });
}

/** Sets the uncompressed size of every entry, in the local and central headers, to `size`. */
function lieAboutSize(zip: Uint8Array, size: number): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  for (let i = 0; i + 4 <= out.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x04034b50) view.setUint32(i + 22, size, true);
    if (sig === 0x02014b50) view.setUint32(i + 24, size, true);
  }
  return out;
}

Deno.test("a zip bomb is refused before and while inflating, with no file left", async (t) => {
  const bomb = zipBomb(HTRU2_MAX_BYTES + 1); // ~65 KB holding 64 MiB + 1
  await t.step("declared too large: refused before inflating", async () => {
    await withServer(() => zipResponse(bomb), async (url) => {
      await withTempDir("denograd_data_test_", async (dir) => {
        const started = performance.now();
        await assertDataError(
          ensurePulsarData(`${dir}/p.csv`, { url }),
          url,
          "HTRU_2.csv declares 67,108,865 bytes, more than the limit of 67,108,864 bytes",
        );
        assert.ok(performance.now() - started < 2000, "it inflated before refusing");
        assert.deepEqual([...Deno.readDirSync(dir)], []);
      });
    });
  });
  await t.step("declared small, inflates large: stopped at the limit", async () => {
    const liar = lieAboutSize(bomb, 1_730_114);
    await withServer(() => zipResponse(liar), async (url) => {
      await withTempDir("denograd_data_test_", async (dir) => {
        await assertDataError(
          ensurePulsarData(`${dir}/p.csv`, { url }),
          url,
          "HTRU_2.csv inflates to more than the limit of 67,108,864 bytes",
          "although it declares 1,730,114 bytes",
        );
        assert.deepEqual([...Deno.readDirSync(dir)], []);
      });
    });
  });
  await t.step("a smaller limit applies the same way", () => {
    const zip = htru2Zip();
    assert.throws(() => extractHtru2Csv(zip, "h.zip", { maxBytes: 1_000_000 }), /declares/);
    const liar = lieAboutSize(zip, 10);
    assert.throws(() => extractHtru2Csv(liar, "h.zip", { maxBytes: 1_000_000 }), /inflates to/);
    assert.equal(extractHtru2Csv(zip, "h.zip"), htru2LikeCsv());
  });
  await t.step("a response larger than the limit is refused while downloading", async () => {
    await withServer((r) => slowResponse(r, 1, 1 << 20, 1, null), async (url) => {
      await assertDataError(
        downloadBytes(url, { maxBytes: 4 << 20 }),
        url,
        "more than the limit of 4,194,304 bytes",
      );
    });
  });
  await t.step("a response announcing more than the limit is refused before its body", async () => {
    await withServer((r) => slowResponse(r, 1, 0, 50, 5 << 20), async (url) => {
      const started = performance.now();
      await assertDataError(
        downloadBytes(url, { maxBytes: 4 << 20, idleTimeoutMs: 10_000 }),
        url,
        "the announced size (5,242,880 bytes) is more than the limit of 4,194,304 bytes",
      );
      assert.ok(performance.now() - started < 5000, "it waited for the body");
    });
  });
});

Deno.test("deno task data's permissions fetch a local copy of the archive and keep both files", async () => {
  await withTempDir("denograd_data_test_", async (dir) => {
    await Deno.writeFile(`${dir}/htru2.zip`, htru2Zip());
    const run = await runDeno([
      ...["run", "--no-prompt", "--allow-read", "--allow-write", "--allow-net=archive.ics.uci.edu"],
      ...["scripts/data.ts", "--url", `${dir}/htru2.zip`],
      ...["--out", `${dir}/data/pulsars_tuned.csv`, "--full-out", `${dir}/data/HTRU_2.csv`],
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^3278 rows, 8 features, 1639 of class 0, 1639 of class 1$/m);
    assert.equal(await Deno.readTextFile(`${dir}/data/HTRU_2.csv`), htru2LikeCsv());
    assert.deepEqual([...Deno.readDirSync(`${dir}/data`)].map((e) => e.name).sort(), [
      "HTRU_2.csv",
      "pulsars_tuned.csv",
    ]);
  });
});

Deno.test("writeFileAtomic creates the directory, replaces the file and leaves no temp file", async () => {
  await withTempDir("denograd_data_test_", async (dir) => {
    const path = `${dir}/results/metrics.json`;
    await writeFileAtomic(path, "one");
    await writeFileAtomic(path, new Uint8Array([116, 119, 111]));
    assert.equal(await Deno.readTextFile(path), "two");
    assert.deepEqual([...Deno.readDirSync(`${dir}/results`)].map((e) => e.name), ["metrics.json"]);
  });
});

Deno.test("writeFileAtomic removes its temp file when the rename fails", async () => {
  await withTempDir("denograd_data_test_", async (dir) => {
    await Deno.mkdir(`${dir}/taken/inner`, { recursive: true }); // a non-empty directory
    await assert.rejects(writeFileAtomic(`${dir}/taken`, "data"));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["taken"]);
  });
});
