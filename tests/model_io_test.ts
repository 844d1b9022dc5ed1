// Tests for saving and loading MLP weights (lib/nn/model_io.ts).

import assert from "node:assert/strict";
import { Matrix } from "../lib/matrix.ts";
import { initMLP, mlpForward } from "../lib/nn/mlp.ts";
import { parseModel, serializeModel } from "../lib/nn/model_io.ts";
import { createRng } from "../lib/random.ts";

const SIZES = [8, 25, 10, 2];

Deno.test("serializeModel and parseModel round-trip every bit, including awkward doubles", () => {
  const params = initMLP([2, 3, 2], createRng(0));
  const awkward = [-0, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, -1 / 3, 2 ** -1074 * 3];
  params[0].data.set(awkward);
  const model = parseModel(serializeModel([2, 3, 2], params), "m.json");
  assert.deepEqual(model.sizes, [2, 3, 2]);
  for (let p = 0; p < params.length; p++) {
    const a = params[p].data, b = model.params[p].data;
    assert.deepEqual(model.params[p].shape, params[p].shape);
    for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `params[${p}][${i}]`);
  }
});

Deno.test("serializeModel writes byte-equal text for equal weights and differs otherwise", () => {
  const a = serializeModel(SIZES, initMLP(SIZES, createRng(5)));
  assert.equal(serializeModel(SIZES, initMLP(SIZES, createRng(5))), a);
  assert.notEqual(serializeModel(SIZES, initMLP(SIZES, createRng(6))), a);
  assert.deepEqual(Object.keys(JSON.parse(a)), ["sizes", "params"]);
});

Deno.test("a reloaded model gives identical predictions", () => {
  const params = initMLP(SIZES, createRng(1));
  const rng = createRng(2);
  const X = Matrix.zeros(50, 8);
  for (let i = 0; i < X.data.length; i++) X.data[i] = 50 * rng.normal();
  const reloaded = parseModel(serializeModel(SIZES, params)).params;
  assert.deepEqual(
    (mlpForward(reloaded, X) as Matrix).data,
    (mlpForward(params, X) as Matrix).data,
  );
});

Deno.test("serializeModel refuses NaN or infinite weights and mismatched shapes", () => {
  const params = initMLP([2, 2], createRng(0));
  params[1].data[1] = NaN;
  assert.throws(
    () => serializeModel([2, 2], params),
    (e) => e instanceof RangeError && /params\[1\] \(1, 0\) is NaN/.test(e.message),
  );
  assert.throws(
    () => serializeModel([3, 2], initMLP([2, 2], createRng(0))),
    (e) =>
      e instanceof TypeError &&
      /sizes \[3,2\] need parameter shapes \[2x3, 2x1\], got \[2x2, 2x1\]/.test(e.message),
  );
});

Deno.test("parseModel names the source and what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["{oops", /bad.json: not valid JSON/],
    ["[1, 2]", /bad.json: expected an object with "sizes" and "params"/],
    ['{"params": []}', /bad.json: "sizes" must be a list of positive integers, got undefined/],
    ['{"sizes": [2.5, 1], "params": []}', /"sizes" must be a list of positive integers/],
    ['{"sizes": [2], "params": []}', /"sizes" needs at least two layers/],
    ['{"sizes": [1, 1], "params": {}}', /"params" must be a list of matrices/],
    [
      '{"sizes": [1, 1], "params": [[[1]], [[1, "x"]]]}',
      /params\[1\] row 0 must be a list of numbers/,
    ],
    [
      '{"sizes": [1, 1], "params": [[[1]], [[1], [2, 3]]]}',
      /params\[1\]: Matrix.from: row 1 has 2/,
    ],
    [
      '{"sizes": [1, 2], "params": [[[1]], [[1]]]}',
      /need parameter shapes \[2x1, 2x1\], got \[1x1, 1x1\]/,
    ],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parseModel(text, "bad.json"), pattern, text);
  }
  assert.throws(() => parseModel("{oops", "bad.json"), SyntaxError);
  assert.throws(() => parseModel("[]", "bad.json"), TypeError);
});

Deno.test("a model keeps its standardizer exactly, and rejects a malformed one", () => {
  const params = initMLP([2, 3, 2], createRng(4));
  const standardizer = { mean: [0.1, -2.5e-7], std: [1 / 3, 12345.678] };
  const text = serializeModel([2, 3, 2], params, standardizer);
  assert.deepEqual(parseModel(text, "m.json").standardizer, standardizer);
  assert.equal(parseModel(serializeModel([2, 3, 2], params), "m.json").standardizer, undefined);
  assert.throws(
    () => serializeModel([2, 3, 2], params, { mean: [0], std: [1] }),
    /standardizer covers 1 features but the network has 2 inputs/,
  );
  const bad = text.replace('"std": [', '"std": [0, ');
  assert.throws(() => parseModel(bad, "m.json"), /m.json: "standardizer" must be/);
});
