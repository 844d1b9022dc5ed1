// Tests for scoring candidates: predictCsv against mlpForward, scaling, logits models, errors, the task.

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createRng,
  initMLP,
  Matrix,
  mlpForward,
  parseScoringModel,
  predictCsv,
  type ScoringModel,
  serializeModel,
  serializeScoringModel,
} from "../mod.ts";
import { runDeno, withTempDir } from "./_helpers.ts";

/** `rows` generated candidates with 8 features on HTRU2-like scales, and the CSV text. */
function candidates(rows: number, seed: number, header = true): { X: Matrix; text: string } {
  const rng = createRng(seed);
  const X = Matrix.zeros(rows, 8);
  const lines = header ? ["a,b,c,d,e,f,g,h"] : [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < 8; j++) X.data[i * 8 + j] = rng.normal() * 10 ** (j % 3);
    lines.push(Array.from(X.data.subarray(i * 8, i * 8 + 8)).join(","));
  }
  return { X, text: lines.join("\n") + "\n" };
}

async function scoresOf(model: ScoringModel, path: string, header = true): Promise<string[][]> {
  let text = "";
  await predictCsv(model, path, {
    write: (chunk) => {
      text += chunk;
    },
    header,
    batchRows: 300,
  });
  const [head, ...rows] = text.trimEnd().split("\n");
  assert.equal(head, "score,label");
  return rows.map((r) => r.split(","));
}

const SCALING = {
  mean: [0, 1, 2, 0, 1, 2, 0, 1],
  std: [1, 10, 100, 1, 10, 100, 1, 10],
};

Deno.test("predictCsv scores a tanh model as mlpForward does, with its input scaling", async () => {
  await withTempDir("predict_test_", async (dir) => {
    const { X, text } = candidates(1000, 1);
    const path = join(dir, "c.csv");
    await Deno.writeTextFile(path, text);
    const params = initMLP([8, 25, 10, 2], createRng(2));
    const model = parseScoringModel(serializeModel([8, 25, 10, 2], params, SCALING), "m.json");
    const rows = await scoresOf(model, path);
    assert.equal(rows.length, 1000);
    const Z = Matrix.zeros(1000, 8);
    for (let i = 0; i < Z.data.length; i++) {
      Z.data[i] = (X.data[i] - SCALING.mean[i % 8]) / SCALING.std[i % 8];
    }
    const out = mlpForward(params, Z) as Matrix;
    for (let i = 0; i < 1000; i++) {
      assert.ok(Math.abs(Number(rows[i][0]) - out.data[2 * i + 1]) < 1e-12, `row ${i}`);
      assert.equal(Number(rows[i][1]), out.data[2 * i + 1] > out.data[2 * i] ? 1 : 0);
    }
  });
});

Deno.test("predictCsv gives a logits model's probability of class 1 and applies its threshold", async () => {
  await withTempDir("predict_test_", async (dir) => {
    const path = join(dir, "c.csv");
    await Deno.writeTextFile(path, "x\n0\n1\n-1\n");
    // One input, straight to two logits: z0 = 0, z1 = 2x + 0.5.
    const text = '{"output": "logits", "threshold": 0.7, "sizes": [1, 2], ' +
      '"params": [[[0], [2]], [[0], [0.5]]]}';
    const rows = await scoresOf(parseScoringModel(text, "m.json"), path);
    const p = (d: number) => 1 / (1 + Math.exp(-d));
    const expected = [p(0.5), p(2.5), p(-1.5)];
    rows.forEach(([s], i) => assert.ok(Math.abs(Number(s) - expected[i]) < 1e-15, s));
    assert.deepEqual(rows.map(([, l]) => l), ["0", "1", "0"]); // 0.62 < 0.7 ≤ 0.92
    assert.throws(
      () => parseScoringModel(text.replace('"logits"', '"relu"'), "m.json"),
      /m.json: "output" must be "tanh" or "logits", got "relu"/,
    );
  });
});

Deno.test("a model's logColumns are log-transformed before its scaling, and survive a round trip", async () => {
  await withTempDir("predict_test_", async (dir) => {
    const path = join(dir, "c.csv");
    await Deno.writeTextFile(path, "x,y\n0,3\n-4,1\n");
    // z1 = 2·(t(x) − 1)/2 + (y − 0)/1 with t(x) = sign(x)·log(1 + |x|) on column 0 only.
    const text = '{"output": "logits", "threshold": 0.5, "logColumns": [0], "sizes": [2, 2], ' +
      '"params": [[[0, 0], [2, 1]], [[0], [0]]], "standardizer": {"mean": [1, 0], "std": [2, 1]}}';
    const model = parseScoringModel(text, "m.json");
    assert.deepEqual(model.logColumns, [0]);
    const back = parseScoringModel(serializeScoringModel(model), "again.json");
    assert.deepEqual(back.logColumns, [0]);
    const rows = await scoresOf(back, path);
    const t = (x: number) => Math.sign(x) * Math.log1p(Math.abs(x));
    const p = (d: number) => 1 / (1 + Math.exp(-d));
    const expected = [p(t(0) - 1 + 3), p(t(-4) - 1 + 1)];
    rows.forEach(([s], i) => assert.ok(Math.abs(Number(s) - expected[i]) < 1e-15, s));
    assert.throws(
      () => parseScoringModel(text.replace('"logColumns": [0]', '"logColumns": [2]'), "m.json"),
      /m.json: "logColumns" must be a list of input columns \(0 to 1\), got \[2\]/,
    );
  });
});

Deno.test("predictCsv names the file, line and counts when the columns do not fit the model", async () => {
  await withTempDir("predict_test_", async (dir) => {
    const model = parseScoringModel(serializeModel([8, 3, 2], initMLP([8, 3, 2], createRng(0))));
    const path = join(dir, "with_label.csv");
    await Deno.writeTextFile(path, "1,2,3,4,5,6,7,8,0\n1,2,3,4,5,6,7,8,1\n");
    await assert.rejects(
      scoresOf(model, path, false),
      (e: Error) => {
        assert.equal(e.name, "DataError");
        assert.equal(
          e.message,
          `${path}, line 1: expected 8 values per row (the model's inputs), found 9; drop the label column`,
        );
        return true;
      },
    );
  });
});

Deno.test("deno task predict streams a generated file to scores.csv and reports its rate", async () => {
  await withTempDir("predict_test_", async (dir) => {
    const { text } = candidates(5000, 3, false);
    await Deno.writeTextFile(join(dir, "c.csv"), text);
    const params = initMLP([8, 25, 10, 2], createRng(4));
    await Deno.writeTextFile(
      join(dir, "model.json"),
      serializeModel([8, 25, 10, 2], params, SCALING),
    );
    const out = join(dir, "out", "scores.csv");
    const flags = ["--model", join(dir, "model.json"), "--data", join(dir, "c.csv"), "--no-header"];
    const run = await runDeno([
      "run",
      "--no-prompt",
      "--allow-read",
      "--allow-write",
      "scripts/predict.ts",
      ...flags,
      "--out",
      out,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /Scored 5000 rows \(\d+ predicted pulsars\) in [\d.]+ s \(\d+ rows\/s\)/,
    );
    const lines = (await Deno.readTextFile(out)).trimEnd().split("\n");
    assert.equal(lines.length, 5001);
    assert.ok(lines.slice(1).every((l) => /^-?[\d.e-]+,[01]$/.test(l)));
    assert.deepEqual([...Deno.readDirSync(join(dir, "out"))].map((e) => e.name), ["scores.csv"]);
    const bad = await runDeno(["run", "--allow-read", "scripts/predict.ts", ...flags.slice(0, 2)]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--data is required/);
  });
});
