// CLI: score candidate rows with a saved model; streams any number of rows to a CSV of scores.

import { basename, dirname, join } from "node:path";
import { DataError } from "../lib/data/csv.ts";
import { parseScoringModel, predictCsv } from "../lib/experiment/predict.ts";
import { parseFlags, UsageError } from "./_flags.ts";

const USAGE = `Usage: deno task predict --data CANDIDATES.csv [options]

Scores each row of a numeric CSV of candidates (one column per model input, no label) with a
saved model and writes "score,label" per row, in order. For the notebook's tanh MSE network
(what deno task train saves) the score is its class-1 output in [-1, 1] and the label the
larger output; for a model file with "output": "logits" the score is the probability of
class 1 and the label is score >= its "threshold" (default 0.5). The model's input scaling
("standardizer") is applied first. Memory stays flat however large the file.

Options:
  --model PATH    model file (default results/model.json)
  --data PATH     candidates CSV (required)
  --no-header     the candidates file has no header row
  --out PATH      where the scores go (default results/scores.csv); written to a temporary
                  file renamed into place at the end
  -h, --help      show this help`;

const FLAGS = {
  model: { type: "string", default: "results/model.json" },
  data: { type: "string" },
  "no-header": { type: "boolean", default: false },
  out: { type: "string", default: "results/scores.csv" },
  help: { type: "boolean", short: "h", default: false },
} as const;

async function main(args: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(args, FLAGS);
    if (flags !== "help" && flags.data === undefined) throw new UsageError("--data is required");
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (flags === "help") {
    console.log(USAGE);
    return 0;
  }
  const started = performance.now();
  let model;
  try {
    model = parseScoringModel(await Deno.readTextFile(flags.model), flags.model);
  } catch (e) {
    console.error(
      e instanceof Deno.errors.NotFound
        ? `${flags.model}: no such model file; train one with deno task train, or pass --model`
        : (e as Error).message,
    );
    return 1;
  }
  await Deno.mkdir(dirname(flags.out), { recursive: true });
  const temp = join(
    dirname(flags.out),
    `.${basename(flags.out)}.${crypto.randomUUID().slice(0, 8)}.tmp`,
  );
  const file = await Deno.open(temp, { write: true, createNew: true });
  const encoder = new TextEncoder();
  let summary;
  try {
    summary = await predictCsv(model, flags.data!, {
      write: async (text) => {
        const bytes = encoder.encode(text);
        for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
      },
      header: !flags["no-header"],
    });
    file.close();
    await Deno.rename(temp, flags.out);
  } catch (e) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(temp).catch(() => {});
    if (e instanceof DataError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  const seconds = (performance.now() - started) / 1000;
  console.error(
    `Scored ${summary.rows} rows (${summary.positives} predicted pulsars) in ` +
      `${seconds.toFixed(2)} s (${Math.round(summary.rows / seconds)} rows/s); wrote ${flags.out}`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
