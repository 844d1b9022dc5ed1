// Tests of toDot: the exact DOT of a small function, the MLP's graph, constants and stability.

import assert from "node:assert/strict";
import {
  add,
  createRng,
  grad,
  initMLP,
  Matrix,
  mseLoss,
  mul,
  sum,
  type Tensor,
  toDot,
} from "../mod.ts";

const count = (dot: string, pattern: RegExp) => dot.match(pattern)?.length ?? 0;

Deno.test("toDot renders f(x) = 3x² + 7 as the chain of its primitives", () => {
  const f = (x: Tensor) => add(mul(3, mul(x, x)), 7);
  assert.equal(
    toDot(f, 2),
    `digraph denograd {
  rankdir=TB;
  node [fontname="Helvetica", fontsize=10];
  in0 [label="x scalar", shape=ellipse, style=filled, fillcolor="#dde8f8"];
  op0 [label="mul scalar", shape=box];
  in0 -> op0;
  in0 -> op0;
  op1 [label="mul scalar", shape=box];
  c0 [label="3", shape=plaintext];
  c0 -> op1;
  op0 -> op1;
  op2 [label="add scalar", shape=box];
  op1 -> op2;
  c1 [label="7", shape=plaintext];
  c1 -> op2;
  output [shape=plaintext];
  op2 -> output;
}
`,
  );
});

Deno.test("toDot shows the 8-25-10-2 MLP's MSE as three matmul-add-tanh layers", () => {
  const params = initMLP([8, 25, 10, 2], createRng(0));
  const dot = toDot(mseLoss, params, Matrix.zeros(100, 8), Matrix.zeros(100, 2));
  assert.equal(count(dot, /label="matmul[^"]*"/g), 3);
  assert.equal(count(dot, /label="tanh [^"]*"/g), 3);
  assert.equal(count(dot, /shape=ellipse/g), 8); // six weights, X and Y
  assert.ok(dot.includes('in2 [label="params[2] 10x25"'));
  assert.ok(dot.includes('[label="X 100x8"'));
  assert.ok(dot.includes('label="matmul ABᵀ 25x100"'), "the first layer multiplies by Xᵀ");
  assert.ok(dot.includes('label="tanh 10x100"'));
  assert.match(dot, /op\d+ -> output;\n}\n$/);
});

Deno.test("toDot shows matrix constants by shape and is the same on every call", () => {
  const f = (a: Tensor, ...rest: Tensor[]) => sum(mul(add(a, Matrix.zeros(3, 2)), rest[1]));
  const args = [Matrix.zeros(3, 2), 1, 0.5] as const;
  const dot = toDot(f, ...args);
  assert.ok(dot.includes('[label="const 3x2", shape=plaintext]'));
  assert.ok(dot.includes('[label="rest[1] scalar"'));
  assert.equal(toDot(f, ...args), dot);
});

Deno.test("toDot of a grad call shows the derivative's graph, not the unused forward value", () => {
  const f = (x: Tensor) => add(mul(3, mul(x, x)), 7);
  const dot = toDot((x: Tensor) => grad(f)(x) as Tensor, 2); // d/dx = 3x + 3x
  assert.equal(count(dot, /shape=box/g), 3);
  assert.equal(count(dot, /label="mul scalar"/g), 2);
  assert.equal(count(dot, /label="add scalar"/g), 1);
  assert.equal(count(dot, /label="7"/g), 0, "the forward pass's + 7 does not reach the output");
});

Deno.test("toDot shows a result that ignores the arguments as a constant output", () => {
  const dot = toDot((_x: Tensor) => 5, Matrix.zeros(1, 1));
  assert.match(dot, /c0 \[label="5", shape=plaintext\];\n {2}c0 -> output;/);
});

Deno.test("toDot names the path of a bad argument", () => {
  assert.throws(
    () => toDot((w: Tensor[]) => w[0], [1, "2" as unknown as Tensor]),
    (e) => e instanceof TypeError && e.message.startsWith(`toDot: w[1] is a string ("2")`),
  );
});
