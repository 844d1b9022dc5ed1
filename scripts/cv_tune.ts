// Tuning the practitioner network on training rows only: never on a cross-validation test fold.
//
//   deno run --allow-read scripts/cv_tune.ts [DATA] '{"pulsarWeight": 3}' [SPLITS]
//
// For SPLITS tuning seeds (default 5: 9000..9004, none of which deno task cv uses), draws a stratified 5-fold
// split, keeps only the training rows of its first fold, splits those 75/25 (stratified) and
// trains the practitioner network on the 75% with the given setting overrides, scoring the
// 25%. Prints the mean F1, ROC AUC, G-mean and average precision over the splits. The settings
// in lib/experiment/_cv_models.ts were chosen by comparing such lines (README, "Beyond the
// notebook").

import { loadLabeledCsv } from "../lib/data/csv.ts";
import { stratifiedFolds } from "../lib/data/folds.ts";
import { stratifiedSplit } from "../lib/data/preprocess.ts";
import { createRng } from "../lib/random.ts";
import { practitionerOverrides, runFoldTask } from "../lib/experiment/_cv_models.ts";

if (import.meta.main) {
  const [path = "data/HTRU_2.csv", overrides = "{}", count = "5"] = Deno.args;
  const splits = Number(count);
  const data = await loadLabeledCsv(path, { header: false });
  Object.assign(practitionerOverrides, JSON.parse(overrides));
  const rows: number[][] = [];
  const started = performance.now();
  for (let r = 0; r < splits; r++) {
    const outer = stratifiedFolds(data.labels, 5, createRng(9000 + r))[0].train;
    const inner = stratifiedSplit(outer.map((i) => data.labels[i]), 0.25, createRng(77 + r));
    const o = runFoldTask(
      {
        id: 0,
        model: "practitioner",
        repeat: 0,
        fold: 0,
        seed: 100 + r,
        train: Int32Array.from(inner.train, (k) => outer[k]),
        test: Int32Array.from(inner.test, (k) => outer[k]),
      },
      data.X,
      data.labels,
    );
    rows.push([o.metrics.f1, o.metrics.rocAuc, o.metrics.gmean, o.metrics.prAuc]);
  }
  const mean = (j: number) => (rows.reduce((a, b) => a + b[j], 0) / rows.length).toFixed(4);
  console.log(
    `${overrides}: F1 ${mean(0)}, ROC AUC ${mean(1)}, G-mean ${mean(2)}, AP ${mean(3)} ` +
      `(${((performance.now() - started) / 1000 / splits).toFixed(2)} s a fit)`,
  );
}
