// Tests for the output directory (lib/_fs.ts openOutputDir, scripts/_outputs.ts): sets replaced
// as a unit whatever kills the writer, the lock on --out, the checks before training (12.1,
// 12.8, 12.12).

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { openOutputDir, type WriteFile, writeFileDurably } from "../lib/_fs.ts";
import { runTrain } from "../scripts/train.ts";
import { runSeedsCli } from "../scripts/seeds.ts";
import { runCv } from "../scripts/cv.ts";
import { openOutputs } from "../scripts/_outputs.ts";
import { balanceHtru2 } from "../lib/data/htru2.ts";
import { capture, htru2LikeCsv, listDir, ROOT, runDeno, withTempDir } from "./_helpers.ts";

/** The files of a directory and their text, for comparing sets. */
async function readSet(dir: string): Promise<Record<string, string>> {
  const set: Record<string, string> = {};
  for (const name of await listDir(dir)) set[name] = await Deno.readTextFile(join(dir, name));
  return set;
}

/** An error as the OS gives it, e.g. ENOSPC. */
function osError(code: string, text: string): Error {
  return Object.assign(new Error(`${text}: write '/x/.staging-run-1/metrics.json'`), { code });
}

/** A writer that fails with `error` on the `n`-th file (1-based), after writing half of it. */
function failingWriter(n: number, error: Error): WriteFile {
  let calls = 0;
  return async (path, data) => {
    if (++calls < n) return await writeFileDurably(path, data);
    await Deno.writeFile(path, data.subarray(0, data.length >> 1));
    throw error;
  };
}

/** Kills `child` if it still runs (a failed assertion must not leave it behind) and reaps it. */
/**
 * Runs the Deno script `script` in a child process (killed after 30 s at the latest), waits until
 * it prints `marker` (failing with `why` if it ends first), then calls `fn` with it; the child is
 * stopped afterwards.
 */
async function withChild(
  script: string,
  marker: string,
  why: string,
  fn: (child: Deno.ChildProcess) => Promise<void>,
): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", script],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    for (let seen = ""; !seen.includes(marker);) {
      const { value, done } = await reader.read();
      assert.ok(!done, why);
      seen += value;
    }
    reader.releaseLock();
    await fn(child);
  } finally {
    clearTimeout(timer);
    await stop(child);
  }
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // already gone
  }
  await child.stdout.cancel().catch(() => {});
  await child.status;
}

// What the runs train on does not matter here: the generated stand-in for HTRU2, balanced as
// `deno task data` balances the real file, so these tests need no downloaded data.
const DATA_DIR = Deno.makeTempDirSync({ prefix: "denograd_outputs_data_" });
globalThis.addEventListener("unload", () => Deno.removeSync(DATA_DIR, { recursive: true }));
let dataPath: Promise<string> | undefined;

/** A pulsar-shaped CSV (3,278 rows, 8 features and a 0/1 label), written once. */
function pulsarCsvPath(): Promise<string> {
  return dataPath ??= (async () => {
    const path = join(DATA_DIR, "pulsars.csv");
    await Deno.writeTextFile(path, balanceHtru2(htru2LikeCsv()));
    return path;
  })();
}

/** The train flags of a short run on pulsar-shaped data into `out`. */
async function trainArgs(out: string, ...more: string[]): Promise<string[]> {
  const data = await pulsarCsvPath();
  return ["--data", data, "--out", out, "--steps", "20", "--workers", "1", ...more];
}

Deno.test("a set is replaced whole: a writer failing on any file, or a full disk, leaves the previous set (12.1)", async () => {
  await withTempDir("denograd_outputs_", async (dir) => {
    const out = join(dir, "results");
    assert.equal(await runTrain(await trainArgs(out, "--seed", "0"), capture()), 0);
    const before = await readSet(out);
    assert.deepEqual(Object.keys(before), ["loss.svg", "metrics.json", "model.json"]);
    const failures: [number, Error, RegExp][] = [
      // The probe is write 1; the set's files are writes 2 (loss.svg), 3 and 4 (metrics.json).
      [3, osError("ENOSPC", "No space left on device (os error 28)"), /no space left/],
      [4, osError("ENOSPC", "No space left on device (os error 28)"), /no space left/],
      [2, osError("EIO", "Input/output error (os error 5)"), /Input\/output error/],
    ];
    for (const [n, error, cause] of failures) {
      const io = capture();
      const writeFile = failingWriter(n, error);
      assert.equal(await runTrain(await trainArgs(out, "--seed", "7"), io, { writeFile }), 1);
      const message = io.err.join("\n");
      assert.match(message, new RegExp(`^error: cannot write --out ${out}: `));
      assert.match(message, cause);
      assert.match(message, /the previous outputs there are unchanged/);
      assert.doesNotMatch(message, /\.tmp|\.staging/, "the message names a temporary file");
      assert.deepEqual(await readSet(out), before, `write ${n} failing changed the set`);
      assert.deepEqual(await listDir(`${out}.d`), ["lock", (await Deno.readLink(out)).slice(10)]);
    }
  });
});

Deno.test("a writer killed with SIGKILL mid-set leaves the previous set, and the next run cleans up (12.1)", async () => {
  await withTempDir("denograd_outputs_", async (dir) => {
    const out = join(dir, "out");
    const first = await openOutputDir(out);
    await first.replace([["a.txt", "1"], ["b.txt", "1"]]);
    first.close();
    // A child that writes a.txt, says so, then writes b.txt one byte every 50 ms.
    const child = join(dir, "child.ts");
    await Deno.writeTextFile(
      child,
      `import { openOutputDir } from ${
        JSON.stringify(pathToFileURL(join(ROOT, "lib/_fs.ts")).href)
      };
const out = await openOutputDir(${JSON.stringify(out)}, {
  writeFile: async (path, data) => {
    const file = await Deno.open(path, { write: true, createNew: true });
    for (const byte of data) {
      await file.write(new Uint8Array([byte]));
      if (path.endsWith("b.txt")) {
        console.log("writing");
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    file.close();
  },
});
await out.replace([["a.txt", "2"], ["b.txt", "2".repeat(10_000)]]);
`,
    );
    await withChild(child, "writing", "the child ended before writing b.txt", async (process) => {
      process.kill("SIGKILL");
      const status = await process.status;
      assert.equal(status.signal, "SIGKILL");
    });
    assert.deepEqual(await readSet(out), { "a.txt": "1", "b.txt": "1" });
    const left = await listDir(`${out}.d`);
    assert.ok(left.some((n) => n.startsWith(".staging-")), `no staging left: ${left}`);
    // The OS released the dead child's lock; the next run takes it and sweeps the staging.
    const next = await openOutputDir(out);
    assert.ok(!(await listDir(`${out}.d`)).some((n) => n.startsWith(".")));
    await next.replace([["a.txt", "3"], ["b.txt", "3"]]);
    next.close();
    assert.deepEqual(await readSet(out), { "a.txt": "3", "b.txt": "3" });
  });
});

Deno.test("a reader never meets a missing file or a mixed pair while sets are swapped", async () => {
  await withTempDir("denograd_outputs_", async (dir) => {
    const out = join(dir, "out");
    const writer = await openOutputDir(out);
    await writer.replace([["a.txt", "0"], ["b.txt", "0"]]);
    let done = false;
    let reads = 0;
    const reader = (async () => {
      while (!done) {
        // One resolution of the link, then both files: always one set.
        const real = await Deno.realPath(out);
        const [a, b] = await Promise.all(
          ["a.txt", "b.txt"].map((n) => Deno.readTextFile(join(real, n))),
        );
        assert.equal(a, b, "a mixed set");
        // A plain path always opens a complete version (never a missing file).
        assert.match(await Deno.readTextFile(join(out, "b.txt")), /^\d+$/);
        reads++;
      }
    })();
    try {
      for (let i = 1; i <= 60; i++) {
        await writer.replace([["a.txt", String(i)], ["b.txt", String(i)]]);
      }
    } finally {
      done = true;
      await reader;
      writer.close();
    }
    assert.ok(reads > 10, `only ${reads} reads`);
    // The current version and the one it replaced are kept; older ones are removed.
    assert.equal((await listDir(`${out}.d`)).filter((n) => n.startsWith("run-")).length, 2);
  });
});

Deno.test("a second run into an --out in use fails at once naming the lock; the OS frees a dead holder's lock (12.1)", async () => {
  await withTempDir("denograd_outputs_", async (dir) => {
    const out = join(dir, "results");
    const child = join(dir, "holder.ts");
    await Deno.writeTextFile(
      child,
      `import { openOutputDir } from ${
        JSON.stringify(pathToFileURL(join(ROOT, "lib/_fs.ts")).href)
      };
await openOutputDir(${JSON.stringify(out)});
console.log("locked");
await new Promise(() => setInterval(() => {}, 1000));
`,
    );
    await withChild(child, "locked", "the lock holder ended early", async (holder) => {
      const io = capture();
      const started = performance.now();
      assert.equal(await runTrain(await trainArgs(out, "--steps", "20000"), io), 1);
      assert.ok(performance.now() - started < 5000, "the second run did not fail at once");
      assert.match(
        io.err.join("\n"),
        new RegExp(
          `--out ${out} is in use by another run \\(pid ${holder.pid} since [^;]+; lock ${out}\\.d/lock\\)`,
        ),
      );
      assert.ok(!io.out.some((l) => l.startsWith("step")), "the second run trained");
      holder.kill("SIGKILL");
      await holder.status;
    });
    assert.equal(await runTrain(await trainArgs(out), capture()), 0);
  });
});

Deno.test("two concurrent runs into one --out: one writes a whole set, the other fails naming the lock (12.1)", async () => {
  await withTempDir("denograd_outputs_", async (dir) => {
    const out = join(dir, "results");
    const ios = [capture(), capture()];
    const codes = await Promise.all(
      [1, 2].map(async (seed, i) =>
        runTrain(await trainArgs(out, "--seed", String(seed), "--steps", "200"), ios[i])
      ),
    );
    assert.deepEqual([...codes].sort(), [0, 1]);
    const loser = ios[codes.indexOf(1)].err.join("\n");
    assert.match(loser, /is in use by another run \(pid \d+ since .*; lock .*results\.d\/lock\)/);
    const winner = codes.indexOf(0) + 1;
    const metrics = JSON.parse(await Deno.readTextFile(join(out, "metrics.json")));
    assert.equal(metrics.config.seed, winner);
    assert.match(await Deno.readTextFile(join(out, "loss.svg")), new RegExp(`seed ${winner} `));
  });
});

Deno.test("--out is checked before training: under a file, a file, others' files, no --allow-write (12.8, 12.12)", async () => {
  await withTempDir("denograd_outputs_", async (dir) => {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "x");
    const mine = join(dir, "mine");
    await Deno.mkdir(mine);
    await Deno.writeTextFile(join(mine, "notes.txt"), "mine");
    const cases: [string, RegExp][] = [
      [join(file, "out"), /: a part of the path is a regular file, not a directory$/],
      [file, /: it is a file, not a directory; choose another path$/],
      [mine, /: it holds files that are not a run's outputs \(notes\.txt\); choose a new/],
    ];
    for (const [out, cause] of cases) {
      const io = capture();
      const started = performance.now();
      assert.equal(await runTrain(await trainArgs(out, "--steps", "20000"), io), 1, out);
      assert.ok(performance.now() - started < 5000, `${out}: trained before failing`);
      const message = io.err.join("\n");
      assert.match(message, new RegExp(`^error: cannot (write|use) --out ${out}`));
      assert.match(message, cause);
      assert.ok(!io.out.some((l) => l.startsWith("step")), "trained before failing");
    }
    assert.equal(await Deno.readTextFile(join(mine, "notes.txt")), "mine");
    assert.deepEqual(await listDir(dir), ["file", "mine"], "a refused --out left files");

    // Read-only and permission-denied directories, as the OS reports them to the probe.
    for (
      const [code, text, cause] of [
        ["EROFS", "Read-only file system (os error 30)", "the file system is read-only"],
        ["EACCES", "Permission denied (os error 13)", "permission denied"],
      ]
    ) {
      const io = capture();
      const writeFile = failingWriter(1, osError(code, text));
      const out = join(dir, "ro");
      assert.equal(await runTrain(await trainArgs(out, "--steps", "20000"), io, { writeFile }), 1);
      assert.ok(io.err.join("\n").startsWith(`error: cannot write --out ${out}: ${cause}`));
      assert.ok(!io.out.some((l) => l.startsWith("step")), "trained before failing");
    }

    // Without --allow-write, the subprocess fails before training and names the flag.
    const out = join(dir, "denied");
    const run = await runDeno([
      ...["run", "--no-prompt", "--allow-read", join(ROOT, "scripts", "train.ts")],
      ...await trainArgs(out, "--steps", "20000"),
    ]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`^error: cannot write --out ${out}: .*--allow-write`));
    assert.doesNotMatch(run.stderr, /named above/);
    assert.doesNotMatch(run.stdout, /^step/m);
  });
});

Deno.test("a real read-only directory is reported as such before training (skipped as root)", async () => {
  await withTempDir("denograd_outputs_", async (dir) => {
    const ro = join(dir, "ro");
    await Deno.mkdir(ro, { mode: 0o555 });
    const writable = await Deno.writeTextFile(join(ro, "x"), "").then(() => true, () => false);
    if (writable) return; // root writes anywhere; the injected EACCES case covers the message
    const io = capture();
    assert.equal(await runTrain(await trainArgs(join(ro, "out"), "--steps", "20000"), io), 1);
    assert.match(io.err.join("\n"), /cannot write --out .*ro\/out: permission denied/);
    await Deno.chmod(ro, 0o755);
  });
});

Deno.test("stale temp files of killed runs are removed, and a plain results/ from before is adopted", async () => {
  await withTempDir("denograd_outputs_", async (dir) => {
    const out = join(dir, "results");
    await Deno.mkdir(out);
    await Deno.writeTextFile(join(out, "model.json"), "{}");
    await Deno.writeTextFile(join(out, "seeds.md"), "table");
    await Deno.writeTextFile(join(out, ".metrics.json.0f11cf31.tmp"), "x".repeat(2_000_000));
    await Deno.writeTextFile(join(dir, ".results.link-0123abcd"), "");
    assert.equal(await runTrain(await trainArgs(out), capture()), 0);
    assert.deepEqual(await listDir(out), ["loss.svg", "metrics.json", "model.json", "seeds.md"]);
    assert.equal(await Deno.readTextFile(join(out, "seeds.md")), "table", "seeds.md carried over");
    assert.notEqual(await Deno.readTextFile(join(out, "model.json")), "{}");
    assert.deepEqual(await listDir(dir), ["results", "results.d"]);
    const versions = (await listDir(`${out}.d`)).filter((n) => n.startsWith("run-"));
    assert.equal(versions.length, 2, "the new set and the adopted one it replaced");
    for (const v of versions) {
      assert.ok(!(await listDir(join(`${out}.d`, v))).some((n) => n.endsWith(".tmp")));
    }
  });
});

Deno.test("seeds and train share --out: each replaces its own files and keeps the other's", async () => {
  const data = await pulsarCsvPath();
  await withTempDir("denograd_outputs_", async (dir) => {
    const out = join(dir, "results");
    assert.equal(await runTrain(await trainArgs(out), capture()), 0);
    const model = await Deno.readTextFile(join(out, "model.json"));
    const io = capture();
    assert.equal(await runSeedsCli(["--data", data, "--seeds", "1", "--out", out], io), 0);
    assert.deepEqual(await listDir(out), [
      "loss.svg",
      "metrics.json",
      "model.json",
      "seeds.json",
      "seeds.md",
    ]);
    assert.equal(await Deno.readTextFile(join(out, "model.json")), model);
  });
});

/** The cv flags of a quick run (logistic regression and the baseline) on pulsar-shaped data. */
async function cvArgs(out: string, ...more: string[]): Promise<string[]> {
  const data = await pulsarCsvPath();
  return [
    "--data",
    data,
    "--out",
    out,
    "--folds",
    "2",
    "--repeats",
    "1",
    "--workers",
    "1",
    "--models",
    "logistic,majority",
    ...more,
  ];
}

Deno.test("cv: a second run into an --out in use fails at once naming the lock, before any fold", async () => {
  await withTempDir("denograd_outputs_", async (dir) => {
    const out = join(dir, "results");
    const held = await openOutputs(out);
    try {
      const io = capture();
      const started = performance.now();
      const args = await cvArgs(out, "--repeats", "50", "--models", "practitioner");
      assert.equal(await runCv(args, io), 1);
      assert.ok(performance.now() - started < 5000, "the second run did not fail at once");
      assert.match(
        io.err.join("\n"),
        new RegExp(
          `--out ${out} is in use by another run \\(pid ${Deno.pid} since [^;]+; lock ${out}\\.d/lock\\)`,
        ),
      );
      assert.ok(!io.err.some((l) => l.startsWith("folds done")), "the second run ran folds");
    } finally {
      held.close();
    }
    assert.equal(await runCv(await cvArgs(out), capture()), 0);
    assert.deepEqual(await listDir(out), ["cv.json", "cv.md", "pr.svg", "roc.svg"]);
  });
});

Deno.test("cv: a failure on any file, or a full disk, leaves the previous set whole", async () => {
  await withTempDir("denograd_outputs_", async (dir) => {
    const out = join(dir, "results");
    assert.equal(await runCv(await cvArgs(out, "--seed", "1"), capture()), 0);
    const before = await readSet(out);
    assert.deepEqual(Object.keys(before), ["cv.json", "cv.md", "pr.svg", "roc.svg"]);
    // The probe is write 1; the set's files are writes 2 (roc.svg) to 5 (cv.json).
    for (const n of [2, 4, 5]) {
      const io = capture();
      const writeFile = failingWriter(
        n,
        osError("ENOSPC", "No space left on device (os error 28)"),
      );
      assert.equal(await runCv(await cvArgs(out, "--seed", "2"), io, { writeFile }), 1);
      assert.match(io.err.join("\n"), /no space left.*the previous outputs there are unchanged/is);
      assert.deepEqual(await readSet(out), before, `failing write ${n}`);
      assert.ok(!(await listDir(`${out}.d`)).some((name) => name.startsWith(".staging")));
    }
  });
});

Deno.test("cv, train and seeds share --out: cv replaces its own files (a stale model too) and keeps theirs", async () => {
  const data = await pulsarCsvPath();
  await withTempDir("denograd_outputs_", async (dir) => {
    const out = join(dir, "results");
    assert.equal(await runTrain(await trainArgs(out), capture()), 0);
    assert.equal(await runSeedsCli(["--data", data, "--seeds", "1", "--out", out], capture()), 0);
    const others = await readSet(out);
    assert.equal(await runCv(await cvArgs(out, "--save-model"), capture()), 0);
    const cvFiles = ["cv.json", "cv.md", "pr.svg", "roc.svg"];
    assert.deepEqual(
      await listDir(out),
      [...Object.keys(others), ...cvFiles, "practitioner_model.json"].sort(),
    );
    // A cv run without --save-model drops the earlier run's model rather than keep it beside
    // results it did not come from; train's and seeds' files stay byte for byte.
    assert.equal(await runCv(await cvArgs(out, "--seed", "3"), capture()), 0);
    assert.deepEqual(await listDir(out), [...Object.keys(others), ...cvFiles].sort());
    const after = await readSet(out);
    for (const [name, text] of Object.entries(others)) assert.equal(after[name], text, name);
    // And a train run after cv keeps cv's files.
    const cv = JSON.parse(after["cv.json"]);
    assert.equal(await runTrain(await trainArgs(out, "--seed", "5"), capture()), 0);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(out, "cv.json"))), cv);
    assert.match(await Deno.readTextFile(join(out, "loss.svg")), /seed 5 /);
  });
});
