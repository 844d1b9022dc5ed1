// Tests for the experiment as a library call (lib/experiment.ts): results, errors, injection.

import assert from "node:assert/strict";
import { loadLabeledCsv } from "../lib/data/csv.ts";
import { standardize } from "../lib/data/preprocess.ts";
import { EXPERIMENT_DEFAULTS, type ExperimentConfig, runExperiment } from "../lib/experiment.ts";
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
