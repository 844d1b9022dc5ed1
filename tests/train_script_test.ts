// Tests for `deno task train` (scripts/train.ts), the seeds driver and the loss curve SVG; the
// experiment they run is tested as a library call in experiment_test.ts.

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadLabeledCsv } from "../lib/data/csv.ts";
import { HTRU2_URL, PULSAR_COLUMNS } from "../lib/data/htru2.ts";
import { classificationMetrics, predictClasses } from "../lib/nn/metrics.ts";
import { parseModel } from "../lib/nn/model_io.ts";
import { parseTrainArgs, runTrain, type TrainConfig, UsageError } from "../scripts/train.ts";
import { formatJson } from "../scripts/_outputs.ts";
import { createRng } from "../lib/random.ts";
import { meanStd, runSeeds, runSeedsCli, seedsTable } from "../scripts/seeds.ts";
import { renderLossSvg } from "../scripts/_loss_svg.ts";
import { niceTicks } from "../scripts/_svg.ts";
import {
  capture,
  htru2Zip,
  listDir,
  needsPulsarData,
  pulsarCsvPath,
  ROOT,
  runDeno,
  withServer,
  withTempDir,
  zipResponse,
} from "./_helpers.ts";

Deno.test("parseTrainArgs defaults to the published experiment", () => {
  assert.deepEqual(parseTrainArgs([]), {
    data: "data/pulsars_tuned.csv",
    dataUrl: HTRU2_URL,
    label: null,
    header: true,
    layers: [8, 25, 10, 2],
    lr: 0.01,
    optimizer: "sgd",
    lrSchedule: "constant",
    batch: 100,
    steps: 1000,
    epochs: null,
    valFraction: 0,
    patience: null,
    checkpoint: null,
    resume: null,
    seed: 0,
    logEvery: 50,
    workers: "auto",
    shards: "auto",
    standardize: false,
    testFraction: 0,
    out: "results",
  });
  assert.equal(parseTrainArgs(["--help"]), "help");
  assert.deepEqual(
    parseTrainArgs([
      ...["--workers", "3", "--shards", "6", "--seed=-4", "--test-fraction", ".25"],
      ...["--label", "y"],
    ]),
    {
      ...(parseTrainArgs([]) as TrainConfig),
      workers: 3,
      shards: 6,
      seed: -4,
      testFraction: 0.25,
      label: "y",
    },
  );
  assert.deepEqual(
    parseTrainArgs([
      ...["--optimizer", "adam", "--lr-schedule", "warmup-cosine", "--epochs", "3"],
      ...["--val-fraction", "0.1", "--patience", "4", "--checkpoint", "c.json"],
      ...["--resume", "r.json", "--no-header", "--label", "3"],
    ]),
    {
      ...(parseTrainArgs([]) as TrainConfig),
      optimizer: "adam",
      lrSchedule: "warmup-cosine",
      epochs: 3,
      valFraction: 0.1,
      patience: 4,
      checkpoint: "c.json",
      resume: "r.json",
      header: false,
      label: 3,
    },
  );
  for (const url of ["https://mirror.example/htru2.zip", "file:///srv/htru2.zip"]) {
    assert.equal((parseTrainArgs(["--data-url", url]) as TrainConfig).dataUrl, url);
  }
});

const BAD_FLAGS: [string[], RegExp][] = [
  [["--lr", "0"], /--lr must be a positive number, got "0"/],
  [["--lr=-1"], /--lr must be a positive number, got "-1"/],
  [["--lr", "-1"], /Option '--lr' argument is ambiguous/],
  [["--lr", "0x10"], /--lr must be a positive number, got "0x10"/],
  [["--lr", "Infinity"], /--lr must be a positive number, got "Infinity"/],
  [["--batch", "0"], /--batch must be a positive integer, got "0"/],
  [["--batch", "2.5"], /--batch must be a positive integer, got "2.5"/],
  [["--steps", ""], /--steps must be a positive integer, got ""/],
  [["--log-every", "ten"], /--log-every must be a positive integer, got "ten"/],
  [["--seed", "1.5"], /--seed must be an integer, got "1.5"/],
  [["--seed", "99999999999999999999"], /--seed must be an integer/],
  [["--layers", "8"], /--layers must be two or more positive integers .*, got "8"/],
  [["--layers", "8,0,2"], /--layers must be two or more positive integers .*, got "8,0,2"/],
  [["--layers", "8,,2"], /--layers must be .*, got "8,,2"/],
  [["--workers", "0"], /--workers must be "auto" or an integer from 1 to 256, got "0"/],
  [["--workers", "many"], /--workers must be "auto" or an integer .*, got "many"/],
  [["--shards", "0"], /--shards must be "auto" or an integer from 1 to the batch \(100\), got "0"/],
  [["--shards", "101"], /--shards must be .* to the batch \(100\), got "101"/],
  [["--test-fraction", "1"], /--test-fraction must be a number in \[0, 1\).*, got "1"/],
  [["--test-fraction=-0.1"], /--test-fraction must be a number in \[0, 1\).*, got "-0.1"/],
  [["--out", " "], /--out must be a non-empty string, got " "/],
  [["--data", ""], /--data must be a non-empty string/],
  [["--data-url", "htru2.zip"], /--data-url must be an http:, https: or file: URL, .*"htru2.zip"/],
  [["--data-url", "ftp://x/a.zip"], /--data-url must be an http:, .*, got "ftp:\/\/x\/a.zip"/],
  [["--data-url", "data:,PK"], /--data-url must be an http:, https: or file: URL, .*"data:,PK"/],
  [["--learning-rate", "1"], /Unknown option '--learning-rate'/],
  [["--standardize=yes"], /--standardize/],
  [["--lr"], /--lr/],
  [["results"], /Unexpected argument "results"/],
  [
    ["--optimizer", "lbfgs"],
    /--optimizer must be one of sgd, momentum, rmsprop, adam, adamw, got "lbfgs"/,
  ],
  [
    ["--lr-schedule", "step"],
    /--lr-schedule must be one of constant, cosine, exponential, warmup-cosine, got "step"/,
  ],
  [["--epochs", "0"], /--epochs must be a positive integer, got "0"/],
  [["--epochs", "2", "--steps", "10"], /--steps and --epochs exclude each other/],
  [["--val-fraction", "1"], /--val-fraction must be a number in \[0, 1\).*, got "1"/],
  [["--patience", "0", "--val-fraction", "0.1"], /--patience must be a positive integer, got "0"/],
  [["--patience", "5"], /--patience 5 needs validation data to watch: add --val-fraction/],
  [["--checkpoint", ""], /--checkpoint must be a non-empty string/],
  [["--resume", " "], /--resume must be a non-empty string/],
  [["--label", "0"], /--label must be a column name or a 1-based column position, got "0"/],
  [["--no-header=yes"], /--no-header/],
];

Deno.test("each bad flag exits 2 with a message naming the flag and the value", async (t) => {
  for (const [args, pattern] of BAD_FLAGS) {
    await t.step(args.join(" ") || "(empty)", async () => {
      assert.throws(() => parseTrainArgs(args), (e) => e instanceof UsageError);
      const io = capture();
      assert.equal(await runTrain(args, io), 2);
      assert.match(io.err.join("\n"), pattern);
      assert.deepEqual(io.out, []);
    });
  }
});

/** Runs scripts/train.ts as `deno task train` would: from the root, with the task's flags. */
async function runTask(args: string[]) {
  const tokens = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks.train
    .trim().split(/\s+/) as string[];
  assert.deepEqual(tokens.slice(0, 2), ["deno", "run"]);
  return await runDeno(["run", ...tokens.slice(2), ...args]);
}

/**
 * Runs scripts/train.ts from `cwd`, outside the repository, so its default data file is
 * missing there. The repository's deno.json (and with it deno.lock) is named explicitly, as
 * Deno looks for them from the cwd; the only host it may reach is the local test server.
 */
async function runTrainIn(cwd: string, args: string[]) {
  return await runDeno([
    "run",
    "--no-prompt",
    "--config",
    join(ROOT, "deno.json"),
    "--allow-read",
    "--allow-write",
    "--allow-net=127.0.0.1",
    join(ROOT, "scripts", "train.ts"),
    ...args,
  ], cwd);
}

/** Every path under `dir`, relative to it, sorted; directories end with "/". */
async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const paths: string[] = [];
  for (const name of await listDir(join(dir, prefix))) {
    const path = prefix + name;
    if ((await Deno.stat(join(dir, path))).isDirectory) {
      paths.push(`${path}/`, ...await listTree(dir, `${path}/`));
    } else paths.push(path);
  }
  return paths;
}

Deno.test("train downloads the data when the default file is missing, says so, and trains on it", async () => {
  const zip = await htru2Zip();
  await withServer(() => zipResponse(zip), async (url, requests) => {
    await withTempDir("denograd_train_test_", async (tmp) => {
      const run = await runTrainIn(tmp, ["--data-url", url, "--steps", "50", "--workers", "1"]);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(
        run.stdout.includes(
          `data/pulsars_tuned.csv is missing: downloading HTRU2 from ${url} (once)...`,
        ),
        run.stdout,
      );
      assert.ok(run.stdout.includes("Wrote data/pulsars_tuned.csv\n"), run.stdout);
      assert.equal(requests(), 1);

      const lines = (await Deno.readTextFile(join(tmp, "data", "pulsars_tuned.csv")))
        .trimEnd().split("\n");
      assert.equal(lines[0], PULSAR_COLUMNS.join(","));
      assert.equal(lines.length, 1 + 3278);
      const metrics = JSON.parse(await Deno.readTextFile(join(tmp, "results", "metrics.json")));
      assert.equal(metrics.config.dataUrl, url);
      assert.equal(metrics.data.rows, 3278);
      assert.equal(metrics.status, "ok");
      // results is a link to the run's complete set in results.d/ (run-<time>-<id>).
      const tree = (await listTree(tmp)).map((p) => p.replace(/run-[\w-]+/, "run-ID"));
      assert.deepEqual(tree, [
        "data/",
        "data/HTRU_2.csv",
        "data/pulsars_tuned.csv",
        "results/",
        "results/loss.svg",
        "results/metrics.json",
        "results/model.json",
        "results.d/",
        "results.d/lock",
        "results.d/run-ID/",
        "results.d/run-ID/loss.svg",
        "results.d/run-ID/metrics.json",
        "results.d/run-ID/model.json",
      ]);
      assert.match(await Deno.readLink(join(tmp, "results")), /^results\.d\/run-[\w-]+$/);
    });
  });
});

Deno.test("a failed download of the default data exits 1 naming the URL and leaves no files", async () => {
  await withServer(() => new Response("not here", { status: 404 }), async (url) => {
    await withTempDir("denograd_train_test_", async (tmp) => {
      const run = await runTrainIn(tmp, ["--data-url", url, "--steps", "50", "--workers", "1"]);
      assert.equal(run.code, 1, run.stderr);
      assert.ok(run.stderr.includes(`Download of ${url} failed: HTTP 404`), run.stderr);
      assert.ok(run.stderr.includes(`\`deno task data --url ${url}\``), run.stderr); // same URL
      assert.ok(run.stderr.includes("--data PATH"), run.stderr);
      assert.deepEqual(await listTree(tmp), [], "files left after a failed download");
    });
  });
});

Deno.test("with the train task's permissions, a bad flag exits 2 and --help exits 0", async () => {
  const bad = await runTask(["--batch=-3"]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /^error: --batch must be a positive integer, got "-3"/);
  const help = await runTask(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: deno task train/);
  const flags = [
    "--data",
    "--data-url",
    "--layers",
    "--workers",
    "--standardize",
    "--test-fraction",
  ];
  for (const flag of flags) {
    assert.ok(help.stdout.includes(flag), `--help mentions ${flag}`);
  }
});

Deno.test("layers that do not fit the data, or bad data, exit 2 naming the problem", async () => {
  await withTempDir("denograd_train_test_", async (dir) => {
    const csv = join(dir, "tiny.csv");
    await Deno.writeTextFile(csv, "a,b,label\n0,0,0\n1,1,1\n0,1,1\n");
    const cases: [string[], RegExp][] = [
      [
        ["--layers", "3,4,2"],
        /--layers 3,4,2: the first layer must equal the number of features in .*tiny.csv \(2: a, b\)/,
      ],
      [
        ["--layers", "2,4,3"],
        /--layers 2,4,3: the last layer must equal the number of classes in .*tiny.csv \(2\)/,
      ],
      [["--data", join(dir, "missing.csv")], /missing.csv: cannot read the file: file not found/],
      [["--label", "nope"], /no column is named "nope"/],
      [
        ["--layers", "2,2", "--test-fraction", "0.1"],
        /--test-fraction 0.1: .*class 0 has only 1 row; .*at least 2 rows of each class/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const io = capture();
      const code = await runTrain(["--data", csv, "--out", join(dir, "out"), ...args], io);
      assert.equal(code, 2, args.join(" "));
      assert.match(io.err.join("\n"), pattern);
    }
    assert.deepEqual(await listDir(join(dir, "out")), [], "a usage error wrote files");
  });
});

needsPulsarData.test("a --batch whose step cannot fit in memory exits 2 naming the flag, before reading data (12.7)", async () => {
  await withTempDir("denograd_train_test_", async (dir) => {
    const out = join(dir, "out");
    for (const batch of ["100000000", "1000000000"]) {
      const io = capture();
      const started = performance.now();
      const args = ["--data", join(dir, "never_read.csv"), "--batch", batch, "--out", out];
      assert.equal(await runTrain(args, io), 2);
      assert.ok(performance.now() - started < 5000, "took too long to refuse");
      const message = io.err.join("\n");
      assert.match(
        message,
        new RegExp(`^error: --batch ${batch}: a step would need about [\\d,.]+ GB of memory`),
      );
      assert.match(
        message,
        /2,712 bytes a row for layers 8,25,10,2.*Use a batch of at most [\d,]+/,
      );
      assert.doesNotMatch(message, /Array buffer allocation failed|never_read/);
    }
    assert.deepEqual(await listDir(dir), [], "a refused batch left files");
  });
  // A batch larger than the data is fine: rows are drawn with replacement.
  const data = await pulsarCsvPath();
  await withTempDir("denograd_train_test_", async (dir) => {
    const args = ["--data", data, "--batch", "5000", "--steps", "2", "--out", dir + "/o"];
    assert.equal(await runTrain([...args, "--workers", "1"], capture()), 0);
  });
  // The library takes its own limit.
  const { EXPERIMENT_DEFAULTS, runExperiment } = await import("../lib/experiment.ts");
  const { parseLabeledCsv } = await import("../lib/data/csv.ts");
  const tiny = parseLabeledCsv("a,label\n0,0\n1,1\n");
  const config = { ...EXPERIMENT_DEFAULTS, data: "t.csv", layers: [1, 2], batch: 1000 };
  await assert.rejects(
    runExperiment(config, { data: tiny, stepMemoryLimit: 100_000 }),
    /batch 1000: a step would need about 0.000528 GB .* at most 189;/,
  );
});

needsPulsarData.test("labels that are not 0..K-1 are a data error", async () => {
  await withTempDir("denograd_train_test_", async (dir) => {
    const csv = join(dir, "gap.csv");
    await Deno.writeTextFile(csv, "a,label\n0,1\n1,3\n");
    const io = capture();
    assert.equal(await runTrain(["--data", csv, "--layers", "1,4"], io), 2);
    assert.match(io.err.join("\n"), /gap.csv: the labels must be the classes 0 to 1, found 1, 3/);
    // Beyond the network's outputs, the loader names the line.
    const beyond = capture();
    assert.equal(await runTrain(["--data", csv, "--layers", "1,2"], beyond), 2);
    assert.match(
      beyond.err.join("\n"),
      /gap.csv, line 3, column "label": label "3" is outside the 2 expected classes \(0 to 1\)/,
    );
  });
});

needsPulsarData.test("a default run on the pulsar data writes metrics, model and loss curve", async (t) => {
  const data = await pulsarCsvPath();
  await withTempDir("denograd_train_test_", async (dir) => {
    const io = capture();
    const args = ["--data", data, "--out", join(dir, "a"), "--workers", "1"];
    assert.equal(await runTrain(args, io), 0, io.err.join("\n"));

    await t.step("prints the config, a log line per 50 steps and the results", () => {
      assert.match(io.out[0], /^train\.ts \{"data":/);
      assert.equal(io.out.filter((l) => /^step +\d+\/1000 {2}loss \d/.test(l)).length, 20);
      assert.ok(io.out.some((l) => /^All 3278 rows: +accuracy 0\.\d{3}/.test(l)));
    });

    const metrics = JSON.parse(await Deno.readTextFile(join(dir, "a", "metrics.json")));
    await t.step("metrics.json has the config, the loss log and the evaluation", () => {
      assert.equal(metrics.status, "ok");
      assert.deepEqual(metrics.config.layers, [8, 25, 10, 2]);
      assert.equal(metrics.config.seed, 0);
      assert.match(metrics.config.rng, /^xoshiro128\*\*/);
      assert.deepEqual(Object.keys(metrics.config.versions), [
        "denograd",
        "deno",
        "v8",
        "typescript",
      ]);
      assert.deepEqual(
        metrics.training.loss.map((e: { step: number }) => e.step),
        Array.from({ length: 20 }, (_, i) => 50 * (i + 1)),
      );
      assert.ok(metrics.training.loss.every((e: { loss: number }) => e.loss > 0 && e.loss < 1));
      assert.ok(metrics.training.seconds > 0);
      assert.equal(metrics.training.workers, 1);
      assert.equal(typeof metrics.training.workersReason, "string");
      const all = metrics.evaluation.all;
      assert.deepEqual(Object.keys(all), ["accuracy", "recall", "precision", "f1", "confusion"]);
      assert.deepEqual(Object.keys(all.recall), ["0", "1"]);
      assert.deepEqual(all.confusion.map((row: number[]) => row[0] + row[1]), [1639, 1639]);
      assert.equal(metrics.evaluation.test, undefined);
      assert.equal(metrics.data.trainRows, 3278);
    });

    await t.step("model.json reloads to the same predictions as the evaluation", async () => {
      const text = await Deno.readTextFile(join(dir, "a", "model.json"));
      const model = parseModel(text, "model.json");
      assert.deepEqual(model.sizes, [8, 25, 10, 2]);
      const { X, labels } = await loadLabeledCsv(data);
      const again = classificationMetrics(predictClasses(model.params, X), labels, 2);
      assert.deepEqual(again, metrics.evaluation.all);
    });

    await t.step("loss.svg is a standalone SVG with the run's details", async () => {
      const svg = await Deno.readTextFile(join(dir, "a", "loss.svg"));
      assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.ok(svg.trimEnd().endsWith("</svg>"));
      assert.match(svg, /seed 0 · lr 0.01 · batch 100 · 1000 steps/);
      assert.equal((svg.match(/<circle /g) ?? []).length, 20);
    });

    await t.step("the same seed writes a byte-identical model.json", async () => {
      const again = await runTrain(
        [...args.slice(0, 3), join(dir, "b"), "--workers", "1"],
        capture(),
      );
      assert.equal(again, 0);
      const [a, b] = await Promise.all(
        ["a", "b"].map((d) => Deno.readFile(join(dir, d, "model.json"))),
      );
      assert.deepEqual(b, a);
      const other = JSON.parse(await Deno.readTextFile(join(dir, "b", "metrics.json")));
      assert.deepEqual(other.training.loss, metrics.training.loss);
      assert.deepEqual(other.evaluation, metrics.evaluation);
    });

    await t.step("--workers 2 with --shards 4 writes the same bits as 1 worker", async () => {
      const run = async (workers: string, out: string) => {
        const io = capture();
        const flags = ["--workers", workers, "--shards", "4", "--steps", "200"];
        assert.equal(await runTrain([...args.slice(0, 2), "--out", out, ...flags], io), 0);
        return [
          await Deno.readFile(join(out, "model.json")),
          JSON.parse(await Deno.readTextFile(join(out, "metrics.json"))),
        ] as const;
      };
      const [one, oneMetrics] = await run("1", join(dir, "w1"));
      const [two, twoMetrics] = await run("2", join(dir, "w2"));
      assert.deepEqual([twoMetrics.training.workers, twoMetrics.training.shards], [2, 4]);
      assert.equal(oneMetrics.config.shards, 4);
      assert.deepEqual(two, one);
      assert.deepEqual(twoMetrics.training.loss, oneMetrics.training.loss);
    });

    await t.step("no temporary files are left beside the outputs", async () => {
      assert.deepEqual(await listDir(join(dir, "a")), ["loss.svg", "metrics.json", "model.json"]);
    });
  });
});

needsPulsarData.test("a diverging run keeps the previous outputs, writes its own to OUT.d/diverged/ and exits 3 (12.2)", async () => {
  const data = await pulsarCsvPath();
  await withTempDir("denograd_train_test_", async (dir) => {
    const out = join(dir, "out");
    const good = ["--data", data, "--out", out, "--steps", "50", "--workers", "1"];
    assert.equal(await runTrain(good, capture()), 0);
    const before = await readSet(out);
    const io = capture();
    const code = await runTrain([...good, "--lr", "1e308"], io);
    assert.equal(code, 3);
    const message = io.err.join("\n");
    assert.match(message, /the loss became NaN or infinite at step \d+ of 50/);
    assert.match(message, /smaller --lr .* --standardize/);
    assert.ok(message.includes(`Wrote ${join(`${out}.d`, "diverged", "metrics.json")}`), message);
    assert.match(message, /previous outputs in .*out are unchanged/);
    assert.deepEqual(await readSet(out), before, "a diverged run changed the previous set");
    const failed = join(`${out}.d`, "diverged");
    assert.deepEqual(await listDir(failed), ["loss.svg", "metrics.json"]);
    const metrics = JSON.parse(await Deno.readTextFile(join(failed, "metrics.json")));
    assert.equal(metrics.status, "diverged");
    assert.equal(typeof metrics.training.divergedAt, "number");
    assert.equal(metrics.evaluation, null);
    assert.match(await Deno.readTextFile(join(failed, "loss.svg")), /diverged at step \d+/);
    // A plain directory from an older release is kept too, with its model.json.
    const old = join(dir, "old");
    await Deno.mkdir(old);
    await Deno.writeTextFile(join(old, "model.json"), "{}");
    assert.equal(await runTrain([...good, "--out", old, "--lr", "1e308"], capture()), 3);
    assert.deepEqual(await listDir(old), ["model.json"]);
  });
});

/** The files of an output directory and their bytes, for comparing sets. */
async function readSet(dir: string): Promise<Record<string, string>> {
  const set: Record<string, string> = {};
  for (const name of await listDir(dir)) set[name] = await Deno.readTextFile(join(dir, name));
  return set;
}

needsPulsarData.test("an aborted run exits 1 with its message and writes no files", async () => {
  const data = await pulsarCsvPath();
  await withTempDir("denograd_train_test_", async (dir) => {
    const io = capture();
    const out = join(dir, "out");
    const signal = AbortSignal.abort();
    assert.equal(await runTrain(["--data", data, "--out", out], io, { signal }), 1);
    assert.match(io.err.join("\n"), /^error: Training was aborted/);
    assert.deepEqual(await listDir(out), []);
  });
});

Deno.test("a stray label beyond the network's classes names the file, line and label (12.16)", async () => {
  await withTempDir("denograd_train_test_", async (dir) => {
    // 0/1 labels, one row labelled 2 on line 42, and a blank line the loader skips.
    const rows = Array.from({ length: 60 }, (_, i) => `${i % 3},${(i * 7) % 5},${i % 2}`);
    rows[40] = "1,1,2";
    const csv = join(dir, "labels_with_a_2.csv");
    await Deno.writeTextFile(
      csv,
      `a,b,label\n${rows.slice(0, 20).join("\n")}\n\n${rows.slice(20).join("\n")}\n`,
    );
    const io = capture();
    assert.equal(
      await runTrain(["--data", csv, "--layers", "2,4,2", "--out", join(dir, "o")], io),
      2,
    );
    const message = io.err.join("\n");
    assert.match(message, /labels_with_a_2\.csv, line 43, column "label": label "2" is outside/);
    assert.doesNotMatch(message, /--layers/);
    assert.deepEqual(await listDir(join(dir, "o")), []);
  });
});

Deno.test("seeds on a file with a stray label blames the file and exits 2, not --layers (12.13)", async () => {
  await withTempDir("denograd_train_test_", async (dir) => {
    const rows = Array.from(
      { length: 60 },
      (_, i) => `${[1, 2, 3, 4, 5, 6, 7, 8].map((j) => i * j % 7).join(",")},${i % 2}`,
    );
    rows[40] = rows[40].replace(/,\d$/, ",2");
    const csv = join(dir, "labels_with_a_2.csv");
    await Deno.writeTextFile(csv, `${"abcdefgh".split("").join(",")},label\n${rows.join("\n")}\n`);
    const io = capture();
    const code = await runSeedsCli(["--seeds", "1", "--data", csv, "--out", join(dir, "o")], io);
    const message = io.err.join("\n");
    assert.equal(code, 2, message);
    assert.match(message, /labels_with_a_2\.csv, line 42, column "label": label "2" is outside/);
    assert.doesNotMatch(message, /--layers|pulsars_tuned/);
  });
});

Deno.test("seeds on a file with other features blames the experiment's layers, not a flag", async () => {
  await withTempDir("denograd_train_test_", async (dir) => {
    const csv = join(dir, "three.csv");
    const rows = Array.from({ length: 20 }, (_, i) => `${i},${i % 3},${i % 5},${i % 2}`);
    await Deno.writeTextFile(csv, `a,b,c,label\n${rows.join("\n")}\n`);
    const io = capture();
    const code = await runSeedsCli(["--seeds", "1", "--data", csv, "--out", join(dir, "o")], io);
    assert.equal(code, 2);
    assert.match(
      io.err.join("\n"),
      /^error: the pulsar experiment's layers 8,25,10,2: the first layer must equal the number of features in .*three\.csv \(3: a, b, c\)/,
    );
  });
});

Deno.test("--standardize on a column that overflows names the file and column and exits 2 (12.10)", async () => {
  await withTempDir("denograd_train_test_", async (dir) => {
    const rows = Array.from({ length: 20 }, (_, i) => `${i},${(i % 5) * 1e200},${i % 2}`);
    const csv = join(dir, "huge.csv");
    await Deno.writeTextFile(csv, `a,big,label\n${rows.join("\n")}\n`);
    const io = capture();
    const args = ["--data", csv, "--layers", "2,4,2", "--standardize", "--out", join(dir, "o")];
    assert.equal(await runTrain(args, io), 2);
    assert.match(
      io.err.join("\n"),
      /huge\.csv: cannot standardize column 1 \("big"\): its standard deviation overflows/,
    );
    assert.deepEqual(await listDir(join(dir, "o")), []);
  });
});

Deno.test("runSeeds summarises both protocols as a markdown table", async () => {
  const rows = Array.from({ length: 40 }, (_, i) => `${i % 2},${(i * 7) % 5},${i % 2}`);
  const { parseLabeledCsv } = await import("../lib/data/csv.ts");
  const data = parseLabeledCsv(`a,b,label\n${rows.join("\n")}\n`);
  const summary = await runSeeds(data, { seeds: 3, layers: [2, 4, 2], steps: 5 });
  assert.deepEqual(summary.map((s) => [s.name, s.runs.length, s.rows]), [
    ["original", 3, 40],
    ["standardized", 3, 8],
  ]);
  const table = seedsTable(summary);
  assert.match(table, /^\| protocol \| evaluated on \| accuracy \|/);
  assert.match(
    table,
    /\| `--standardize --test-fraction 0.2` \| 8 held-out rows \| \d\.\d{3} ± \d\.\d{3} \|/,
  );
  assert.deepEqual(meanStd([2, 4, 4, 4, 5, 5, 7, 9]), { mean: 5, std: Math.sqrt(32 / 7) });
});

Deno.test("niceTicks picks round steps that cover the range", () => {
  assert.deepEqual(niceTicks(0, 1000, 8), [0, 200, 400, 600, 800, 1000]);
  assert.deepEqual(niceTicks(0, 0.137, 6), [0, 0.05, 0.1, 0.15]);
  assert.deepEqual(niceTicks(0.3, 0.3, 4), [0.26, 0.28, 0.3, 0.32, 0.34]);
  assert.deepEqual(niceTicks(0, 0.3, 3), [0, 0.1, 0.2, 0.3]);
});

Deno.test("renderLossSvg escapes text, uses a log scale for wide ranges and marks divergence", () => {
  const points = [1, 2, 3, 4].map((i) => ({ step: 10 * i, loss: 10 ** i }));
  const svg = renderLossSvg([...points, { step: 50, loss: NaN }], {
    title: "a < b & c",
    divergedAt: 50,
  });
  assert.ok(svg.includes("a &lt; b &amp; c"));
  assert.ok(svg.includes("loss (log scale)"));
  assert.ok(svg.includes("diverged at step 50"));
  assert.ok(!svg.includes("NaN"));
  const linear = renderLossSvg([{ step: 1, loss: 0.2 }, { step: 2, loss: 0.1 }]);
  assert.ok(!linear.includes("log scale"));
  assert.match(renderLossSvg([]), /no finite loss values/);
});

Deno.test("formatJson is JSON that parses back to the same value", () => {
  const value = { a: [1, { b: [[1, 2], [3, 4]] }], c: null, d: "x", e: [], f: {}, g: undefined };
  const text = formatJson(value);
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
  assert.ok(text.endsWith("}\n"));
});

/** A generated two-class CSV with 4 features (no header when `header` is false). */
async function smallCsv(path: string, header = true, labelFirst = false): Promise<void> {
  const rng = createRng(3);
  const rows = Array.from({ length: 120 }, () => {
    const x = [0, 1, 2, 3].map(() => rng.normal());
    const y = x[0] - 0.5 * x[1] > 0 ? 1 : 0;
    return (labelFirst ? [y, ...x] : [...x, y]).join(",");
  });
  const names = labelFirst ? "y,a,b,c,d" : "a,b,c,d,y";
  await Deno.writeTextFile(path, `${header ? `${names}\n` : ""}${rows.join("\n")}\n`);
}

const SMALL = ["--layers", "4,6,2", "--batch", "16", "--workers", "1", "--log-every", "10"];

Deno.test("--no-header and --label N read a headerless file with the label anywhere (12.9)", async () => {
  await withTempDir("denograd_train_test_", async (dir) => {
    await smallCsv(join(dir, "with.csv"));
    await smallCsv(join(dir, "bare.csv"), false, true);
    const run = async (args: string[], out: string) => {
      const io = capture();
      const code = await runTrain([...SMALL, "--steps", "30", ...args, "--out", out], io);
      assert.equal(code, 0, io.err.join("\n"));
      return await Deno.readTextFile(join(out, "model.json"));
    };
    const named = await run(["--data", join(dir, "with.csv"), "--label", "y"], join(dir, "a"));
    const bare = await run(
      ["--data", join(dir, "bare.csv"), "--no-header", "--label", "1"],
      join(dir, "b"),
    );
    // The same data and config: the same model, whatever the file's layout.
    const strip = (m: string) => JSON.parse(m).params;
    assert.deepEqual(strip(bare), strip(named));
    const metrics = JSON.parse(await Deno.readTextFile(join(dir, "b", "metrics.json")));
    assert.deepEqual([metrics.config.header, metrics.config.label], [false, 1]);
    assert.equal(metrics.data.label, "column 1");
    // Without --no-header, the loader refuses a header of numbers and names the flag.
    const io = capture();
    const code = await runTrain(
      [...SMALL, "--data", join(dir, "bare.csv"), "--out", join(dir, "c")],
      io,
    );
    assert.equal(code, 2);
    assert.match(io.err.join("\n"), /the header holds only numbers.*--no-header/);
  });
});

Deno.test("--optimizer, --lr-schedule, --epochs, --val-fraction and --patience are recorded", async () => {
  await withTempDir("denograd_train_test_", async (dir) => {
    await smallCsv(join(dir, "d.csv"));
    const io = capture();
    const args = [
      ...SMALL,
      ...["--data", join(dir, "d.csv"), "--optimizer", "adam", "--lr-schedule", "cosine"],
      ...["--epochs", "40", "--val-fraction", "0.2", "--patience", "3", "--lr", "0.05"],
      ...["--out", join(dir, "o")],
    ];
    assert.equal(await runTrain(args, io), 0, io.err.join("\n"));
    const metrics = JSON.parse(await Deno.readTextFile(join(dir, "o", "metrics.json")));
    const { config, data, training, evaluation } = metrics;
    assert.deepEqual(
      [config.optimizer, config.lrSchedule, config.epochs, config.valFraction, config.patience],
      ["adam", "cosine", 40, 0.2, 3],
    );
    assert.equal(data.validationRows, 24); // 20% of 120, stratified
    assert.equal(data.trainRows, 96);
    assert.ok(training.best.step >= 10 && training.best.step <= training.steps);
    assert.ok(training.loss.some((e: { validation?: number }) => e.validation !== undefined));
    assert.ok(evaluation.validation.accuracy > 0.5);
    assert.ok(training.steps <= 40 * 6); // 6 whole batches of 16 in 96 rows an epoch
    assert.ok(io.out.some((l) => /^Kept the parameters of step \d+/.test(l)));
  });
});

Deno.test("--checkpoint then --resume with more steps writes the model of one long run", async () => {
  await withTempDir("denograd_train_test_", async (dir) => {
    await smallCsv(join(dir, "d.csv"));
    const ckpt = join(dir, "run.ckpt");
    const base = [...SMALL, "--data", join(dir, "d.csv"), "--optimizer", "adam", "--lr", "0.02"];
    const run = async (args: string[]) => {
      const io = capture();
      assert.equal(await runTrain([...base, ...args], io), 0, io.err.join("\n"));
    };
    await run(["--steps", "60", "--out", join(dir, "whole")]);
    await run(["--steps", "30", "--checkpoint", ckpt, "--out", join(dir, "first")]);
    await run(["--steps", "60", "--resume", ckpt, "--out", join(dir, "second")]);
    const model = (d: string) => Deno.readTextFileSync(join(dir, d, "model.json"));
    assert.equal(model("second"), model("whole"));
    const metrics = JSON.parse(Deno.readTextFileSync(join(dir, "second", "metrics.json")));
    assert.equal(metrics.config.resume, ckpt);
    assert.equal(metrics.training.loss.length, 6);
    // A checkpoint of another run is refused, naming what differs.
    const io = capture();
    const code = await runTrain(
      [...base, "--batch", "8", "--steps", "60", "--resume", ckpt, "--out", join(dir, "x")],
      io,
    );
    assert.equal(code, 2);
    assert.match(
      io.err.join("\n"),
      /--resume .*run\.ckpt: the checkpoint has batch 16, this run 8/,
    );
  });
});

Deno.test("--help explains every flag", async () => {
  const io = capture();
  assert.equal(await runTrain(["--help"], io), 0);
  const help = io.out.join("\n");
  for (
    const flag of [
      "--optimizer",
      "--lr-schedule",
      "--epochs",
      "--val-fraction",
      "--patience",
      "--checkpoint",
      "--resume",
      "--no-header",
      "--label NAME|N",
    ]
  ) assert.match(help, new RegExp(`^  ${flag}`, "m"), flag);
});

Deno.test("the README's flag table lists exactly the flags of --help", async () => {
  const io = capture();
  await runTrain(["--help"], io);
  const fromHelp = [...io.out.join("\n").matchAll(/^ {2}(?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1]);
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const table = readme.split("Every flag of `deno task train`")[1].split("\n\n")[1];
  const fromTable = [...table.matchAll(/^\| `(--[a-z-]+)[^`]*` +\|/gm)].map((m) => m[1]);
  assert.deepEqual([...fromTable, "--help"].sort(), fromHelp.sort());
});

Deno.test("seeds reads a headerless file with --no-header and --label N", async () => {
  await withTempDir("denograd_train_test_", async (dir) => {
    const rows = Array.from(
      { length: 60 },
      (_, i) => `${i % 2},${[1, 2, 3, 4, 5, 6, 7, 8].map((j) => (i * j) % 7).join(",")}`,
    );
    const csv = join(dir, "bare.csv");
    await Deno.writeTextFile(csv, `${rows.join("\n")}\n`);
    const io = capture();
    const args = ["--seeds", "1", "--data", csv, "--no-header", "--label", "1"];
    const code = await runSeedsCli([...args, "--out", join(dir, "o")], io);
    assert.equal(code, 0, io.err.join("\n"));
    const bad = capture();
    assert.equal(await runSeedsCli(["--label", "0"], bad), 2);
    assert.match(bad.err.join("\n"), /--label must be a column name or a 1-based column position/);
  });
});
