// Tests for the experiment as a library call (lib/experiment.ts): results, errors, injection.

import assert from "node:assert/strict";
import { type LabeledData, loadLabeledCsv, parseLabeledCsv } from "../lib/data/csv.ts";
import { standardize } from "../lib/data/preprocess.ts";
import {
  EXPERIMENT_DEFAULTS,
  type ExperimentConfig,
  LR_SCHEDULES,
  OPTIMIZERS,
  runExperiment,
} from "../lib/experiment.ts";
import { createRng } from "../lib/random.ts";
import { classificationMetrics, predictClasses } from "../lib/nn/metrics.ts";
import { parseModel, serializeModel } from "../lib/nn/model_io.ts";
import { meanStd } from "../scripts/seeds.ts";
import { needsPulsarData, pulsarCsvPath } from "./_helpers.ts";

/** The published experiment on the shared pulsar file, on one thread, changed by `change`. */
async function pulsarConfig(change: Partial<ExperimentConfig> = {}): Promise<ExperimentConfig> {
  return { ...EXPERIMENT_DEFAULTS, data: await pulsarCsvPath(), workers: 1, ...change };
}

needsPulsarData.test("over seeds 0..9 the mean accuracy on all 3,278 rows is at least 0.90", async () => {
  const data = await loadLabeledCsv(await pulsarCsvPath());
  const accuracies: number[] = [];
  for (let seed = 0; seed < 10; seed++) {
    const config = await pulsarConfig({ seed });
    const { metrics } = await runExperiment(config, { data });
    assert.equal(metrics.status, "ok", `seed ${seed}`);
    assert.equal(metrics.evaluation!.all.confusion.flat().reduce((a, b) => a + b), 3278);
    accuracies.push(metrics.evaluation!.all.accuracy);
  }
  const { mean, std } = meanStd(accuracies);
  assert.ok(
    mean >= 0.90,
    `mean accuracy ${mean.toFixed(4)} ± ${std.toFixed(4)} is below 0.90 (${accuracies})`,
  );
});

needsPulsarData.test("a held-out split is stratified, standardized on training rows and scored apart", async () => {
  const path = await pulsarCsvPath();
  const data = await loadLabeledCsv(path);
  const config = await pulsarConfig({ standardize: true, testFraction: 0.2, steps: 200 });
  const { metrics, model } = await runExperiment(config, { data });
  assert.equal(metrics.data.trainRows, 2622);
  assert.equal(metrics.data.testRows, 656);
  assert.deepEqual(metrics.evaluation!.test!.confusion.map((r) => r[0] + r[1]), [328, 328]);
  assert.deepEqual(metrics.evaluation!.train!.confusion.map((r) => r[0] + r[1]), [1311, 1311]);
  const stats = metrics.data.standardizer!;
  assert.equal(stats.mean.length, 8);
  // The saved model carries its statistics and alone reproduces the evaluation on all rows.
  const saved = parseModel(serializeModel(model!.sizes, model!.params, model!.standardizer));
  assert.deepEqual(saved.standardizer, stats);
  const predicted = predictClasses(saved.params, standardize(data.X, saved.standardizer!));
  assert.deepEqual(classificationMetrics(predicted, data.labels, 2), metrics.evaluation!.all);
});

needsPulsarData.test("runExperiment rejects with the message of a loss that throws while training", async () => {
  const data = await loadLabeledCsv(await pulsarCsvPath());
  const loss = new URL("./fixtures/user_loss.ts?worker=main&call=7", import.meta.url);
  const config = await pulsarConfig({ steps: 20 });
  await assert.rejects(runExperiment(config, { data, loss }), /injected fault on call 7/);
});

needsPulsarData.test("runExperiment checks its config like the CLI checks the flags", async () => {
  const config = await pulsarConfig();
  const data = await loadLabeledCsv(await pulsarCsvPath());
  for (
    const [change, pattern] of [
      [{ lr: 0 }, /^lr 0: must be a positive number$/],
      [{ steps: 1.5 }, /^steps 1.5: must be a positive integer$/],
      [{ layers: [8] }, /^layers 8: must be two or more positive integers$/],
      [{ shards: 101 }, /^shards 101: must be "auto" or an integer from 1 to the batch \(100\)$/],
      [{ testFraction: 1 }, /^testFraction 1: must be in \[0, 1\)$/],
    ] as [Partial<ExperimentConfig>, RegExp][]
  ) {
    await assert.rejects(
      runExperiment({ ...config, ...change }, { data }),
      (e) => e instanceof Error && e.name === "ConfigError" && pattern.test(e.message),
    );
  }
});

/** A generated two-class data set with 4 features, in memory. */
function smallData(rows = 150): LabeledData {
  const rng = createRng(5);
  const lines = Array.from({ length: rows }, () => {
    const x = [0, 1, 2, 3].map(() => rng.normal());
    return [...x, x[0] + 0.5 * x[2] > 0 ? 1 : 0].join(",");
  });
  return parseLabeledCsv(`a,b,c,d,y\n${lines.join("\n")}\n`);
}

const SMALL: ExperimentConfig = {
  ...EXPERIMENT_DEFAULTS,
  data: "small.csv",
  layers: [4, 6, 2],
  batch: 16,
  steps: 60,
  logEvery: 10,
  workers: 1,
};

Deno.test("valFraction holds out stratified training rows, after the weights are drawn", async () => {
  const data = smallData();
  const plain = await runExperiment({ ...SMALL, testFraction: 0.2, steps: 1 }, { data });
  const withVal = await runExperiment(
    { ...SMALL, testFraction: 0.2, valFraction: 0.25, optimizer: "adam", lr: 0.02 },
    { data },
  );
  const d = withVal.metrics.data;
  assert.equal(d.testRows, plain.metrics.data.testRows); // the same test split
  assert.equal(d.trainRows + d.validationRows, plain.metrics.data.trainRows);
  // A quarter of each class, rounded per class.
  assert.ok(Math.abs(d.validationRows - plain.metrics.data.trainRows * 0.25) <= 1);
  const ev = withVal.metrics.evaluation!;
  const count = (m: { confusion: number[][] }) => m.confusion.flat().reduce((a, b) => a + b);
  assert.equal(count(ev.validation!), d.validationRows);
  assert.equal(count(ev.train!), d.trainRows);
  const t = withVal.metrics.training;
  assert.ok(t.best && t.best.step % 10 === 0);
  assert.equal(t.loss.filter((e) => e.validation !== undefined).length, 6);
  // The initial weights do not depend on valFraction: 0 steps of each give the same model.
  const zero = (valFraction: number) =>
    runExperiment({ ...SMALL, testFraction: 0.2, valFraction, steps: 1, lr: 1e-300 }, { data });
  const [a, b] = [await zero(0), await zero(0.25)];
  assert.deepEqual(
    a.model!.params.map((m) => [...m.data]),
    b.model!.params.map((m) => [...m.data]),
  );
});

Deno.test("every optimizer and schedule runs, epochs count whole batches, patience stops", async () => {
  const data = smallData();
  for (const optimizer of OPTIMIZERS) {
    for (const lrSchedule of LR_SCHEDULES) {
      const { metrics } = await runExperiment({ ...SMALL, optimizer, lrSchedule }, { data });
      assert.equal(metrics.status, "ok", `${optimizer} ${lrSchedule}`);
      assert.deepEqual([metrics.config.optimizer, metrics.config.lrSchedule], [
        optimizer,
        lrSchedule,
      ]);
    }
  }
  const epochs = await runExperiment({ ...SMALL, epochs: 3 }, { data });
  assert.equal(epochs.metrics.training.steps, 3 * Math.floor(150 / 16));
  const early = await runExperiment(
    { ...SMALL, optimizer: "sgd", lr: 2, steps: 2000, valFraction: 0.2, patience: 2 },
    { data },
  );
  assert.equal(early.metrics.training.stoppedEarly, true);
  assert.ok(early.metrics.training.steps < 2000);
});

Deno.test("the new config fields are checked and named", async () => {
  const data = smallData();
  for (
    const [change, pattern] of [
      [{ optimizer: "lbfgs" }, /^optimizer lbfgs: must be one of sgd, momentum/],
      [{ lrSchedule: "step" }, /^lrSchedule step: must be one of constant, cosine/],
      [{ epochs: 0 }, /^epochs 0: must be a positive integer or null$/],
      [{ valFraction: 1 }, /^valFraction 1: must be in \[0, 1\)$/],
      [{ patience: 3 }, /^patience 3: needs validation data to watch/],
      [{ label: 0 }, /^label 0: must be a column name, a 1-based position or null$/],
      [{ resume: "/nonexistent/ckpt.json" }, /^resume \/nonexistent\/ckpt.json: no such file$/],
    ] as [Partial<ExperimentConfig>, RegExp][]
  ) {
    await assert.rejects(
      runExperiment({ ...SMALL, ...change }, { data }),
      (e) => e instanceof Error && e.name === "ConfigError" && pattern.test(e.message),
      JSON.stringify(change),
    );
  }
});
