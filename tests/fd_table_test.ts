// The primitive table against central finite differences: every case in tests/fd_cases/*.ts
// (one file per op family; a new family adds a file, nothing else), first and second order.

import assert from "node:assert/strict";
import { type PrimitiveName, PRIMITIVES } from "../lib/autograd/ops.ts";
import { type Case, checkCase } from "./_fd.ts";

/** Every exported `CASES` array of the files in tests/fd_cases, in file-name order. */
async function loadCases(): Promise<Case[]> {
  const dir = new URL("./fd_cases/", import.meta.url);
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".ts")) names.push(entry.name);
  }
  const modules = await Promise.all(names.sort().map((n) => import(new URL(n, dir).href)));
  return modules.flatMap((m) => m.CASES as Case[]);
}

const CASES = await loadCases();

Deno.test("every primitive has a finite-difference case", () => {
  const covered = new Set(CASES.flatMap((c) => c.covers));
  for (const name of Object.keys(PRIMITIVES)) {
    assert.ok(covered.has(name as PrimitiveName), `no case covers primitive ${name}`);
  }
});

Deno.test("vjp and jvp match central finite differences, to second order", async (t) => {
  for (const [n, c] of CASES.entries()) {
    await t.step(c.name, () => checkCase(c, 1000 + n));
  }
});
