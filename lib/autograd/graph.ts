// `toDot`: renders the graph that reverse-mode tracing records for a function, as Graphviz DOT.

import { Matrix } from "../matrix.ts";
import { flatten, runTrace } from "./transforms.ts";
import {
  formatShape,
  type Node,
  shapeOf,
  type Tensor,
  Trace,
  Traced,
  traceLeaf,
  valueOf,
} from "./tracer.ts";

/**
 * Traces `f` at `args` as {@linkcode grad} would and returns the recorded graph as Graphviz
 * DOT: one node per input leaf (its argument path and shape, e.g. `weights[2] 10x25`), one
 * per primitive application the result depends on (the op and its output shape, e.g.
 * `matmul 25x100`), constants shown compactly (numbers by value, matrices as `const 3x2`),
 * edges from inputs to ops, and an `output` node after the returned value. Tracing a call of
 * `grad` shows the graph of the derivative. Arguments are named after `f`'s parameters when
 * they are plain identifiers, else `args[i]`. Ids follow the tape, so the text is stable.
 * Render it with `dot -Tsvg graph.dot > graph.svg`.
 *
 * @example The chain rule's graph for f(x) = 3x² + 7
 * ```ts
 * import { add, mul, type Tensor, toDot } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const dot = toDot((x: Tensor) => add(mul(3, mul(x, x)), 7), 2);
 * assert.ok(dot.startsWith("digraph"));
 * assert.ok(dot.includes('in0 [label="x scalar"'));
 * assert.equal(dot.match(/label="mul /g)?.length, 2);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function toDot<A extends any[]>(f: (...args: A) => Tensor, ...args: A): string {
  const trace = new Trace("reverse", "toDot");
  const names = parameterNames(f, args.length);
  const leafPaths = new Map<Node, string>();
  const traced = args.map((arg, i) => {
    const [leaves, rebuild, paths] = flatten(arg, "toDot", names[i]);
    return rebuild(leaves.map((leaf, j) => {
      const box = traceLeaf(trace, leaf);
      leafPaths.set(box.node!, paths[j]);
      return box;
    }));
  });
  return render(trace, runTrace(trace, f, traced) as Tensor, leafPaths);
}

/** The DOT text of a finished trace whose function returned `out`. */
function render(trace: Trace, out: Tensor, leafPaths: Map<Node, string>): string {
  const lines = [
    "digraph denograd {",
    "  rankdir=TB;",
    '  node [fontname="Helvetica", fontsize=10];',
  ];
  const result = out instanceof Traced && out.trace === trace ? out.node : undefined;
  const live = liveNodes(trace.tape, result);
  const ids = new Map<Node, string>();
  const counts = { inputs: 0, ops: 0, constants: 0 };
  for (const node of trace.tape) {
    if (node.primitive === undefined) {
      const id = `in${counts.inputs++}`;
      ids.set(node, id);
      const label = `${leafPaths.get(node)} ${describeShape(node.out)}`;
      lines.push(
        `  ${id} [label=${quote(label)}, shape=ellipse, style=filled, fillcolor="#dde8f8"];`,
      );
    } else if (live.has(node)) lines.push(...opLines(node, ids, counts));
  }
  lines.push("  output [shape=plaintext];");
  if (result !== undefined) lines.push(`  ${ids.get(result)} -> output;`);
  else {
    // The result does not depend on the arguments: show it as the constant it is.
    const c = `c${counts.constants}`;
    lines.push(`  ${c} [label=${quote(describeConstant(out))}, shape=plaintext];`);
    lines.push(`  ${c} -> output;`);
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** One op's node, with an edge from each input (constants get a node of their own). */
function opLines(
  node: Node,
  ids: Map<Node, string>,
  counts: { ops: number; constants: number },
): string[] {
  const id = `op${counts.ops++}`;
  ids.set(node, id);
  const primitive = node.primitive!;
  const params = primitive.label?.(node.params as never) ?? "";
  const label = `${primitive.name}${params} ${describeShape(node.out)}`;
  const lines = [`  ${id} [label=${quote(label)}, shape=box];`];
  node.parents.forEach((parent, i) => {
    if (parent !== undefined) {
      lines.push(`  ${ids.get(parent)} -> ${id};`);
      return;
    }
    const c = `c${counts.constants++}`;
    lines.push(`  ${c} [label=${quote(describeConstant(node.args[i]))}, shape=plaintext];`);
    lines.push(`  ${c} -> ${id};`);
  });
  return lines;
}

/**
 * The ops the output depends on: what the backward pass would visit. Values computed but not
 * used (such as the forward value inside a `grad` being traced) are left out of the picture.
 */
function liveNodes(tape: readonly Node[], result: Node | undefined): Set<Node> {
  const live = new Set<Node>();
  if (result !== undefined) live.add(result);
  for (let n = tape.length - 1; n >= 0; n--) {
    if (!live.has(tape[n])) continue;
    for (const parent of tape[n].parents) if (parent !== undefined) live.add(parent);
  }
  return live;
}

/**
 * `f`'s parameter names read from its source when they are plain identifiers (a rest
 * parameter `...xs` names the rest `xs[0]`, `xs[1]`...), else `args[0]`, `args[1]`...
 */
// deno-lint-ignore no-explicit-any
function parameterNames(f: (...args: any[]) => unknown, count: number): string[] {
  const fallback = Array.from({ length: count }, (_, i) => `args[${i}]`);
  const source = Function.prototype.toString.call(f);
  const list = /^[^(=]*\(([^)]*)\)/.exec(source)?.[1] ??
    /^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(source)?.[1];
  if (list === undefined) return fallback;
  const names = list.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const identifier = /^[A-Za-z_$][\w$]*$/;
  const rest = names.at(-1)?.startsWith("...") ? names.pop()!.slice(3) : undefined;
  if (!names.every((name) => identifier.test(name))) return fallback;
  if (rest !== undefined && !identifier.test(rest)) return fallback;
  return fallback.map((name, i) =>
    i < names.length ? names[i] : rest !== undefined ? `${rest}[${i - names.length}]` : name
  );
}

function describeShape(t: Tensor): string {
  return formatShape(shapeOf(t));
}

function describeConstant(t: Tensor): string {
  const v = valueOf(t);
  if (v instanceof Matrix) return `const ${v.rows}x${v.cols}`;
  return String(Number(v.toPrecision(6)));
}

function quote(s: string): string {
  return `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}
