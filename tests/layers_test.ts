// The house's layers: every import in lib/ points to the same room or a room below, and no
// chain of imports comes back to where it started.

import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { ROOT } from "./_helpers.ts";

/**
 * Each room's floor, lowest first. A file may import its own room or a lower floor; rooms on
 * the same floor (nn, optim, data) do not import each other.
 */
const FLOORS: Record<string, number> = {
  ground: 0, // matrix.ts, random.ts and the private lib/_*.ts
  autograd: 1, // linear algebra included (ops/linalg.ts)
  nn: 2,
  optim: 2,
  data: 2,
  train: 3,
  experiment: 4, // experiment.ts and experiment/
};

// Cycles allowed for now: none. Add one here only with the issue that removes it.
const KNOWN_CYCLES = new Set<string>([]);

/** The room of a file under lib/: its folder, `experiment` for experiment*, else `ground`. */
function roomOf(path: string): string {
  const [first, ...rest] = relative("lib", path).split("/");
  if (rest.length > 0) return first;
  return first.startsWith("experiment") ? "experiment" : "ground";
}

/** The relative imports and re-exports (type-only included) of every .ts file under lib/. */
async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(ROOT, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (path.endsWith(".ts")) graph.set(path, await importsOf(path));
    }
  };
  await walk("lib");
  return graph;
}

async function importsOf(path: string): Promise<string[]> {
  // Doc comments hold examples that import mod.ts; only real statements count.
  const code = (await Deno.readTextFile(join(ROOT, path))).replace(/\/\*[\s\S]*?\*\//g, "");
  const specifiers = [
    ...code.matchAll(/^\s*(?:import|export)\b[^"';]*?from\s+["']([^"']+)["']/gm),
    ...code.matchAll(/^\s*import\s+["']([^"']+)["']/gm),
    ...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
  return specifiers.filter((s) => s.startsWith(".") && s.endsWith(".ts"))
    .map((s) => join(dirname(path), s));
}

/** The imports in `graph` that go to a higher floor or a sibling room on the same floor. */
function upwardImports(graph: Map<string, string[]>): string[] {
  const upward: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const [a, b] = [roomOf(from), roomOf(to)];
      assert.ok(a in FLOORS && b in FLOORS, `${from} or ${to} is in no known room; add it`);
      if (a !== b && FLOORS[b] >= FLOORS[a]) upward.push(`${from} (${a}) -> ${to} (${b})`);
    }
  }
  return upward;
}

/** Every cycle a depth-first walk of `graph` meets, as "a -> b -> a". */
function findCycles(graph: Map<string, string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    state.set(file, "open");
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, "done");
  };
  for (const file of [...graph.keys()].sort()) visit(file, []);
  return cycles;
}

Deno.test("every import in lib/ points to its own room or a lower floor", async () => {
  const upward = upwardImports(await importGraph());
  assert.deepEqual(upward, [], `imports that go up or sideways:\n${upward.join("\n")}`);
});

Deno.test("no chain of imports in lib/ comes back to where it started", async () => {
  const cycles = findCycles(await importGraph()).filter((c) => !KNOWN_CYCLES.has(c));
  assert.deepEqual(cycles, []);
});

Deno.test("the layer check catches a sideways import, an upward one and a cycle", async () => {
  const graph = new Map([
    ["lib/data/csv.ts", ["lib/nn/mlp.ts", "lib/matrix.ts"]],
    ["lib/nn/mlp.ts", ["lib/train/train.ts"]],
    ["lib/train/train.ts", ["lib/data/csv.ts"]],
    ["lib/matrix.ts", []],
  ]);
  assert.deepEqual(upwardImports(graph), [
    "lib/data/csv.ts (data) -> lib/nn/mlp.ts (nn)",
    "lib/nn/mlp.ts (nn) -> lib/train/train.ts (train)",
  ]);
  assert.deepEqual(findCycles(graph), [
    "lib/data/csv.ts -> lib/nn/mlp.ts -> lib/train/train.ts -> lib/data/csv.ts",
  ]);
  // The walk reads real statements, type-only ones included, and skips doc examples.
  const imports = await importsOf("lib/nn/model_io.ts");
  assert.ok(imports.includes("lib/matrix.ts") && !imports.some((i) => i.endsWith("mod.ts")));
});
