// A jit plan: a recorded tape compiled into a flat program of primitive applications over
// preallocated buffers, run by a small interpreter with no boxes, tape or closures per call.
//
// Steps. The common primitives (lib/autograd/_direct.ts) run as direct kernel calls with their
// shapes worked out at compile time, each checked then to give its forward's bits; any other
// primitive runs its own forward, unchanged, so every primitive works under jit, new ones
// included, with the eager path's bits.
//
// Buffers. What each forward allocates through `alloc` (lib/_arena.ts) is learnt once, at
// compile time, and laid out in one region, followed by room for copies of the inputs and of
// the constant matrices; on every call the arena hands a forward the same matrices back in the
// same order (`beginReplay`), and a direct call writes into them. Inside `withScratch` the
// region is taken from the scope's scratch memory, which is the WASM kernels' own memory: with
// the inputs and constants copied in, every kernel finds its operands in place. The results
// then follow the scratch lifetime: valid until the next outermost `withScratch` call. Outside
// a scope the plan uses buffers of its own and returns copies. A forward that makes memory
// another way (`new Matrix`) still works: its result is kept per call, allocation included.

import { Matrix } from "../matrix.ts";
import { beginReplay, endReplay, recordAllocs, scratchHeap, takeScratch } from "../_arena.ts";
import { even } from "../_wasm.ts";
import { type Node, type Primitive, type Tensor, Traced, type Value } from "./tracer.ts";
import { type Direct, directFor } from "./_direct.ts";

/** One primitive application: `vals[out] = direct(args) ?? primitive.forward(args, params)`. */
class Step {
  constructor(
    // deno-lint-ignore no-explicit-any
    readonly primitive: Primitive<any>,
    readonly params: unknown,
    /** The argument list passed to the forward, constants filled in once. */
    readonly args: Value[],
    /** For each argument, the slot it is read from, or -1 for a constant. */
    readonly slots: Int32Array,
    readonly out: number,
    /** The index of its first allocation among the plan's buffers. */
    readonly firstAlloc: number,
    /** The kernel call that replaces the forward, when there is one with the same bits. */
    readonly direct: Direct | undefined,
  ) {}
}

/** One step's time in {@linkcode Plan.profile}. */
export interface StepTime {
  /** The primitive, its parameters and its arguments' shapes. */
  label: string;
  /** Microseconds per run of the step. */
  us: number;
}

/** Where an output leaf comes from: a slot, or a constant baked at trace time. */
export type OutputRef = { slot: number } | { constant: Value };

/** The number of steps and buffer doubles of a plan, for tests and benchmarks. */
export interface PlanSize {
  /** Primitive applications per call (after dropping those no output needs). */
  steps: number;
  /** Doubles of preallocated intermediate storage. */
  doubles: number;
}

/**
 * A compiled trace. Slots `0..inputs-1` hold the inputs; every step writes one slot. Create
 * with {@linkcode compilePlan}, then `run` with input leaves of the traced shapes.
 */
export class Plan {
  readonly #steps: Step[];
  readonly #vals: Value[];
  readonly #inputs: number;
  readonly #outputs: OutputRef[];
  /** The shapes every forward allocates, in call order; and the doubles they need. */
  readonly #shapes: [number, number][];
  readonly #doubles: number;
  // The buffers as views on scratch memory (rebuilt when the scratch memory moves or grows),
  // and the plan's own buffers for calls outside withScratch (made on first use).
  #scratchViews: Matrix[] = [];
  #scratchHeap: Float64Array | undefined;
  #scratchAt = -1;
  #ownViews: Matrix[] | undefined;
  #last: Matrix[] = [];

  /** For each input, the buffer its copy goes to inside withScratch (-1 for a number). */
  readonly #stage: Int32Array;
  /** Each constant matrix argument: where it is passed, and the buffer its copy goes to. */
  readonly #constants: { args: Value[]; j: number; value: Matrix; view: number }[] = [];

  constructor(
    inputs: readonly Value[],
    steps: Step[],
    outputs: OutputRef[],
    shapes: [number, number][],
  ) {
    this.#inputs = inputs.length;
    this.#steps = steps;
    this.#outputs = outputs;
    // The inputs' copies follow the steps' buffers: inside withScratch the kernels then find
    // every operand in their own memory (the copy costs less than the kernels' own copying).
    shapes = [...shapes];
    this.#stage = Int32Array.from(inputs, (v) => {
      if (typeof v === "number") return -1;
      shapes.push([v.rows, v.cols]);
      return shapes.length - 1;
    });
    // Constant matrix arguments (baked at trace time) are copied in too.
    for (const step of steps) {
      step.args.forEach((v, j) => {
        if (step.slots[j] >= 0 || typeof v === "number") return;
        this.#constants.push({ args: step.args, j, value: v, view: shapes.length });
        shapes.push([v.rows, v.cols]);
      });
    }
    this.#shapes = shapes;
    let doubles = 0;
    for (const [r, c] of shapes) doubles += even(r * c);
    this.#doubles = doubles;
    let slots = inputs.length;
    for (const s of steps) slots = Math.max(slots, s.out + 1);
    this.#vals = new Array(slots).fill(0);
  }

  /** The plan's size. */
  get size(): PlanSize {
    return { steps: this.#steps.length, doubles: this.#doubles };
  }

  /**
   * Runs the plan on `inputs` (leaves of the traced shapes, in flatten order) and returns the
   * output leaves: scratch views inside `withScratch`, fresh copies outside.
   */
  run(inputs: readonly Value[]): Value[] {
    const vals = this.#vals;
    const at = takeScratch(this.#doubles);
    const scratch = at >= 0;
    const views = this.#last = scratch ? this.#viewsAt(at) : this.#own();
    this.#load(inputs, scratch ? views : undefined);
    try {
      const steps = this.#steps;
      for (let s = 0; s < steps.length; s++) {
        const step = steps[s];
        vals[step.out] = runStep(step, vals, views);
      }
    } finally {
      endReplay();
    }
    const outs = this.#outputs, result: Value[] = new Array(outs.length);
    for (let i = 0; i < outs.length; i++) {
      const o = outs[i];
      const slot = "slot" in o;
      const v = slot ? (o.slot < inputs.length ? inputs[o.slot] : vals[o.slot]) : o.constant;
      // Copies outside scratch memory, and of constants always (a caller may change them).
      result[i] = typeof v === "number" || (scratch && slot)
        ? v
        : new Matrix(v.rows, v.cols, v.data.slice());
    }
    // Drop references to the caller's inputs and results so they can be collected.
    for (let i = 0; i < vals.length; i++) vals[i] = 0;
    return result;
  }

  /**
   * @internal Runs the plan once on `inputs`, then each step `reps` times alone, inside
   * `withScratch`: the time of each primitive application, to see where a plan's time goes.
   */
  profile(inputs: readonly Value[], reps: number): StepTime[] {
    this.run(inputs);
    const views = this.#last, vals = this.#vals;
    this.#load(inputs, views === this.#ownViews ? undefined : views);
    try {
      for (const step of this.#steps) vals[step.out] = runStep(step, vals, views);
      return this.#steps.map((step) => {
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) runStep(step, vals, views);
        const us = (performance.now() - t0) * 1000 / reps;
        const shape = (v: Value) => typeof v === "number" ? "scalar" : `${v.rows}x${v.cols}`;
        const params = step.params === undefined ? "" : ` ${JSON.stringify(step.params)}`;
        const how = step.direct === undefined ? " (forward)" : "";
        const label = `${step.primitive.name}${params} ${step.args.map(shape).join(" ")}${how}`;
        return { label, us };
      });
    } finally {
      endReplay();
      vals.fill(0);
    }
  }

  /**
   * Puts the inputs in their slots and the constants in their steps' arguments: copied into
   * `views` (scratch memory, where the WASM kernels read them in place) if given.
   */
  #load(inputs: readonly Value[], views: Matrix[] | undefined): void {
    const vals = this.#vals, stage = this.#stage, constants = this.#constants;
    for (let c = 0; c < constants.length; c++) {
      const { args, j, value, view } = constants[c];
      if (views === undefined) args[j] = value;
      else {
        const copy = views[view];
        copy.data.set(value.data);
        args[j] = copy;
      }
    }
    for (let i = 0; i < stage.length; i++) {
      const s = stage[i], v = inputs[i];
      if (views === undefined || s < 0) vals[i] = v;
      else {
        const copy = views[s];
        copy.data.set((v as Matrix).data);
        vals[i] = copy;
      }
    }
  }

  #viewsAt(at: number): Matrix[] {
    const heap = scratchHeap();
    if (heap !== this.#scratchHeap || at !== this.#scratchAt) {
      this.#scratchViews = this.#layout(heap, at);
      this.#scratchHeap = heap;
      this.#scratchAt = at;
    }
    return this.#scratchViews;
  }

  #own(): Matrix[] {
    return this.#ownViews ??= this.#layout(new Float64Array(this.#doubles), 0);
  }

  #layout(heap: Float64Array, at: number): Matrix[] {
    return this.#shapes.map(([r, c]) => {
      const m = new Matrix(r, c, heap.subarray(at, at + r * c));
      at += even(r * c);
      return m;
    });
  }
}

/**
 * Fills a step's arguments from the slots and runs its direct kernel call, or its forward
 * with `alloc` handing back its buffers from `views`.
 */
function runStep(step: Step, vals: Value[], views: Matrix[]): Value {
  const args = step.args, slots = step.slots;
  for (let j = 0; j < slots.length; j++) {
    const k = slots[j];
    if (k >= 0) args[j] = vals[k];
  }
  if (step.direct !== undefined) return step.direct(args, views);
  beginReplay(views, step.firstAlloc);
  return step.primitive.forward(args, step.params);
}

/** Whether `direct` computes `expected` (the traced output) from `args`, bit for bit. */
function agrees(direct: Direct, args: Value[], expected: Value, firstAlloc: number): boolean {
  const views: Matrix[] = [];
  if (typeof expected !== "number") views[firstAlloc] = new Matrix(expected.rows, expected.cols);
  const got = direct(args.slice(), views);
  if (typeof expected === "number" || typeof got === "number") return Object.is(got, expected);
  if (got.rows !== expected.rows || got.cols !== expected.cols) return false;
  // Bit patterns as 32-bit halves (BigInt elements would cost ~100x more).
  const halves = (d: Float64Array) => new Uint32Array(d.buffer, d.byteOffset, 2 * d.length);
  const x = halves(got.data), y = halves(expected.data);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The TypeError for a closure over a value traced by a transform outside jit. */
function outerTracer(name: string): TypeError {
  return new TypeError(
    `jit: ${name} received a value traced by a transform outside jit (the function closes ` +
      "over it); pass that value as an argument of the jitted function instead",
  );
}

/** A constant baked into a plan: matrices are copied, so later changes do not reach it. */
function bake(name: string, v: Tensor): Value {
  if (v instanceof Traced) throw outerTracer(name);
  return typeof v === "number" ? v : new Matrix(v.rows, v.cols, v.data.slice());
}

/**
 * Compiles a jit trace's tape: `leaves` are the input nodes (slots 0..n-1, in order), `outs`
 * the output leaves (a node of the tape or a constant). Steps no output needs are dropped.
 * Each remaining step's forward runs once here, on the traced values, to learn what it
 * allocates.
 */
export function compilePlan(
  tape: readonly Node[],
  leaves: readonly Node[],
  outs: readonly ({ node: Node } | { value: Tensor })[],
): Plan {
  const slotOf = new Map<Node, number>();
  leaves.forEach((leaf, i) => slotOf.set(leaf, i));
  // Liveness, walking the tape backwards from the outputs.
  const live = new Set<Node>();
  for (const o of outs) if ("node" in o) live.add(o.node);
  for (let n = tape.length - 1; n >= 0; n--) {
    const node = tape[n];
    if (!live.has(node)) continue;
    for (const p of node.parents) if (p !== undefined) live.add(p);
  }
  const steps: Step[] = [];
  const shapes: [number, number][] = [];
  let next = leaves.length;
  for (const node of tape) {
    if (node.primitive === undefined || !live.has(node)) continue;
    const name = node.primitive.name;
    const args: Value[] = node.args.map((a, i) =>
      node.parents[i] === undefined ? bake(name, a) : 0
    );
    const slots = Int32Array.from(node.parents, (p) => p === undefined ? -1 : slotOf.get(p)!);
    // The forward on the traced values, to record its allocations (in fresh memory).
    const traced = node.args.map((a, i) => node.parents[i] === undefined ? args[i] : a as Value);
    // A direct call must reproduce the traced output's bits; it needs one buffer (none for a
    // number). Otherwise the forward runs once more here, to record what it allocates.
    const firstAlloc = shapes.length, out = node.out as Value;
    let direct = directFor(node.primitive, node.params, traced, firstAlloc);
    if (direct !== undefined && agrees(direct, traced, out, firstAlloc)) {
      if (typeof out !== "number") shapes.push([out.rows, out.cols]);
    } else {
      direct = undefined;
      const made: Matrix[] = [];
      recordAllocs(made, () => node.primitive!.forward(traced, node.params));
      for (const m of made) shapes.push([m.rows, m.cols]);
    }
    slotOf.set(node, next);
    steps.push(new Step(node.primitive, node.params, args, slots, next++, firstAlloc, direct));
  }
  const outputs: OutputRef[] = outs.map((o) =>
    "node" in o ? { slot: slotOf.get(o.node)! } : { constant: bake("the result", o.value) }
  );
  return new Plan(leaves.map((leaf) => leaf.out as Value), steps, outputs, shapes);
}
