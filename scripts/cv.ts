// CLI: cross-validate the pulsar models; write cv.json, cv.md, roc.svg and pr.svg.
// Flags become a CvConfig; lib/experiment/cv.ts runs it; this file prints and writes.

import { basename } from "node:path";
import { DataError, loadLabeledCsv } from "../lib/data/csv.ts";
import { serializeScoringModel } from "../lib/experiment/predict.ts";
import { PULSAR_COLUMNS } from "../lib/data/htru2.ts";
import {
  crossValidate,
  CV_DEFAULTS,
  type CvConfig,
  type CvResult,
  MODEL_NAMES,
  type ModelName,
  trainPractitionerModel,
} from "../lib/experiment/cv.ts";
import { exists, type OutputDir, OutputDirError, type WriteFile } from "../lib/_fs.ts";
import { parseFlags, parseIntegerFlag, parseWorkersFlag, UsageError } from "./_flags.ts";
import { CV_FILES, formatJson, openOutputs } from "./_outputs.ts";
import { renderCurvesSvg } from "./_curves_svg.ts";

const USAGE = `Usage: deno task cv [options]

Repeated stratified k-fold cross-validation of the pulsar models on a two-class CSV: the
notebook's network, the same network trained as a practitioner would, logistic regression
and the majority class. Writes cv.json, cv.md, roc.svg and pr.svg to the output directory
and prints the table.

Options:
  --data PATH        labelled numeric CSV (default ${CV_DEFAULTS.data}, the full UCI HTRU2)
  --no-header        the file has no header row (implied for a file named HTRU_2.csv, which
                     UCI ships without one; its columns are then named as deno task data
                     names them, ip_mean ... dmsnr_skewness, label)
  --label NAME|N     label column by name or 1-based position (default: the last column)
  --folds K          folds per repeat (default ${CV_DEFAULTS.folds})
  --repeats N        repeats with freshly drawn folds (default ${CV_DEFAULTS.repeats})
  --seed N           seed of the folds and of every model (default ${CV_DEFAULTS.seed})
  --workers auto|N   threads running folds; results do not depend on it (default auto: one
                     per core)
  --models LIST      comma-separated subset of ${MODEL_NAMES.join(",")} (default all)
  --save-model       also train the practitioner network on every row and write it to
                     practitioner_model.json, for deno task predict (scores are
                     probabilities of a pulsar)
  --out DIR          output directory (default results/), shared with train and seeds:
                     a run replaces its own files there as one unit and keeps theirs. It
                     is locked while a run uses it (see train --help on DIR.d/)
  -h, --help         show this help`;

const FLAGS = {
  data: { type: "string" },
  "no-header": { type: "boolean", default: false },
  label: { type: "string" },
  folds: { type: "string", default: String(CV_DEFAULTS.folds) },
  repeats: { type: "string", default: String(CV_DEFAULTS.repeats) },
  seed: { type: "string", default: String(CV_DEFAULTS.seed) },
  workers: { type: "string", default: "auto" },
  models: { type: "string", default: MODEL_NAMES.join(",") },
  out: { type: "string", default: "results" },
  "save-model": { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** The config and output directory a command line asks for, or `"help"`. */
export function parseCvArgs(
  args: readonly string[],
): { config: CvConfig; out: string; saveModel: boolean } | "help" {
  const v = parseFlags(args, FLAGS);
  if (v === "help") return "help";
  const data = v.data ?? CV_DEFAULTS.data;
  const models = v.models.split(",").map((m) => m.trim());
  for (const m of models) {
    if (!(MODEL_NAMES as readonly string[]).includes(m)) {
      throw new UsageError(`--models: unknown model "${m}"; choose from ${MODEL_NAMES.join(", ")}`);
    }
  }
  const label = v.label === undefined
    ? null
    : /^\d+$/.test(v.label)
    ? parseIntegerFlag("label", v.label, { min: 1 })
    : v.label;
  return {
    config: {
      data,
      // The UCI file has no header: its columns get the names deno task data writes.
      header: basename(data) === "HTRU_2.csv" ? PULSAR_COLUMNS : !v["no-header"],
      label,
      folds: parseIntegerFlag("folds", v.folds, { min: 2 }),
      repeats: parseIntegerFlag("repeats", v.repeats, { min: 1 }),
      seed: parseIntegerFlag("seed", v.seed),
      workers: parseWorkersFlag(v.workers),
      models: models as ModelName[],
    },
    out: v.out,
    saveModel: v["save-model"],
  };
}

/** The Markdown table of mean ± sd per model, as printed and written to cv.md. */
export function markdownTable(result: CvResult): string {
  const cols: [string, string, number][] = [
    ["accuracy", "accuracy", 4],
    ["recall (pulsar)", "recall", 3],
    ["FPR", "fpr", 4],
    ["precision", "precision", 3],
    ["F1", "f1", 3],
    ["G-mean", "gmean", 3],
    ["specificity", "specificity", 4],
    ["ROC AUC", "rocAuc", 3],
    ["PR AUC (AP)", "prAuc", 3],
  ];
  const lines = [
    `| model | ${cols.map(([h]) => h).join(" | ")} | threshold |`,
    `|---|${cols.map(() => "---|").join("")}---|`,
  ];
  for (const [name, model] of Object.entries(result.models)) {
    const s = model!.summary as unknown as Record<string, { mean: number; sd: number }>;
    const cells = cols.map(([, key, d]) => `${s[key].mean.toFixed(d)} ± ${s[key].sd.toFixed(d)}`);
    lines.push(`| ${name} | ${cells.join(" | ")} | ${thresholdCell(name, model!.folds)} |`);
  }
  const { folds, repeats, seed } = result.config;
  const n = folds * repeats;
  return `${lines.join("\n")}\n\nMean ± sample standard deviation (n − 1) over ${n} test folds ` +
    `(${repeats} × stratified ${folds}-fold, seed ${seed}) of ${basename(result.config.data)}: ` +
    `${result.data.rows} rows, ${result.data.pulsars} pulsars. Run time ` +
    `${result.timing.seconds.toFixed(1)} s on ${result.timing.workers} worker` +
    `${result.timing.workers === 1 ? "" : "s"}.\n`;
}

function thresholdCell(model: string, folds: readonly { threshold: number | null }[]): string {
  const t = folds.map((f) => f.threshold);
  if (t.every((x) => x === null)) return model === "majority" ? "none (constant)" : "argmax";
  const values = t.filter((x): x is number => x !== null);
  const min = Math.min(...values), max = Math.max(...values);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return min === max
    ? String(min)
    : `${mean.toFixed(2)} (${min.toFixed(2)}–${max.toFixed(2)}, per fold)`;
}

/** The files of a run, in the order written: the curves, the table, then cv.json, the record. */
export function cvFiles(result: CvResult): [name: string, text: string][] {
  const { folds, repeats, seed } = result.config;
  const subtitle = `${basename(result.config.data)} · ${result.data.rows} rows, ` +
    `${result.data.pulsars} pulsars · ${repeats} × stratified ${folds}-fold · seed ${seed}`;
  const panels = (kind: "roc" | "pr") =>
    Object.entries(result.curves).map(([name, curves]) => {
      const s = result.models[name as ModelName]!.summary[kind === "roc" ? "rocAuc" : "prAuc"];
      return {
        name,
        curves: curves![kind],
        label: `${kind === "roc" ? "ROC AUC" : "AP (PR AUC)"} ` +
          `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)} (mean ± sd over folds)`,
      };
    });
  const record = {
    config: result.config,
    versions: result.versions,
    data: result.data,
    models: result.models,
    timing: result.timing,
  };
  return [
    [
      "roc.svg",
      renderCurvesSvg(panels("roc"), { kind: "roc", title: "ROC curves per test fold", subtitle }),
    ],
    [
      "pr.svg",
      renderCurvesSvg(panels("pr"), {
        kind: "pr",
        title: "Precision–recall curves per test fold",
        subtitle,
      }),
    ],
    ["cv.md", markdownTable(result)],
    ["cv.json", formatJson(record)],
  ];
}

/** Where {@linkcode runCv} prints. */
export interface CvIO {
  /** A line of normal output (stdout). */
  log(line: string): void;
  /** A line of error output (stderr). */
  error(line: string): void;
  /** Redraws the progress line in place; absent when output is not a terminal. */
  progress?: (text: string) => void;
}

const encoder = new TextEncoder();
const consoleIO: CvIO = {
  log: (line) => console.log(line),
  error: (line) => console.error(line),
  progress: Deno.stderr.isTerminal()
    ? (text) => Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${text}`))
    : undefined,
};

/** Options for {@linkcode runCv}. */
export interface RunCvOptions {
  /** Writes each output file; inject a failing one to test. Default: write and fsync. */
  writeFile?: WriteFile;
}

/**
 * The whole CLI: parses `args`, opens and locks `--out` before any work (failing at once if
 * it cannot be written or another run holds it), cross-validates, and replaces its files in
 * `--out` as one unit, carrying over the other tools' files there (train's, seeds'). A failed
 * run leaves the previous set. Returns the exit code (0 done, 1 data, run or output error, 2
 * bad flags).
 */
export async function runCv(
  args: readonly string[],
  io: CvIO = consoleIO,
  options: RunCvOptions = {},
): Promise<number> {
  let parsed;
  try {
    parsed = parseCvArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.error(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === "help") {
    io.log(USAGE);
    return 0;
  }
  const { config, out: outPath, saveModel } = parsed;
  let out: OutputDir | undefined;
  try {
    out = await openOutputs(outPath, { writeFile: options.writeFile });
    if (config.data === CV_DEFAULTS.data && !(await exists(config.data))) {
      io.error(
        `${config.data} is missing: run \`deno task data\` (it writes the UCI HTRU_2.csv, ` +
          "17,898 rows, no header, there), or pass --data PATH",
      );
      return 1;
    }
    const { progress } = io;
    const result = await crossValidate(config, {
      onProgress: (p) => {
        const line = `folds done ${p.allDone}/${p.allTotal} · ${p.model} ${p.done}/${p.total}`;
        if (progress) progress(line);
        else if (p.done === p.total) io.error(line);
      },
    });
    progress?.("");
    const files = cvFiles(result);
    if (saveModel) {
      // Loaded again (a second read) so crossValidate keeps its simple interface.
      const data = await loadLabeledCsv(config.data, {
        header: config.header,
        ...(config.label === null ? {} : { label: config.label }),
      });
      const model = trainPractitionerModel(data, config.seed);
      files.unshift(["practitioner_model.json", serializeScoringModel(model)]);
    }
    // One unit: the new set replaces the previous cv files (a model saved by an earlier run
    // is dropped, not kept beside other folds' results) and carries train's and seeds' over.
    const paths = await out.replace(files, { drop: CV_FILES });
    io.log(files.find(([name]) => name === "cv.md")![1]);
    io.log(`Wrote ${paths.join(", ")}`);
    return 0;
  } catch (e) {
    io.progress?.("");
    if (e instanceof OutputDirError) {
      io.error(`error: ${e.message}`);
      return 1;
    }
    if (e instanceof DataError || e instanceof RangeError) {
      io.error(e.message);
      return 1;
    }
    throw e;
  } finally {
    out?.close();
  }
}

if (import.meta.main) Deno.exit(await runCv(Deno.args));
