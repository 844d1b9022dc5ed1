// Draws a training loss curve as a standalone SVG: axes, ticks, grid, title and run details.

import { line, niceTicks, round, svgOpening, text, verticalText } from "./_svg.ts";

/** One logged loss value. */
export interface LossPoint {
  /** The training step (1-based) after which the loss was measured. */
  step: number;
  /** The loss; non-finite values are left out of the curve. */
  loss: number;
}

/** Options for {@linkcode renderLossSvg}. */
export interface LossSvgOptions {
  /** Heading; default "Training loss". */
  title?: string;
  /** A smaller line under the title, e.g. the seed and configuration. */
  subtitle?: string;
  /** Label of the y axis; default "loss". */
  yLabel?: string;
  /** `"auto"` (default) uses a log scale when the values span more than a factor of 20. */
  yScale?: "linear" | "log" | "auto";
  /** Marks the step where training diverged with a red line. */
  divergedAt?: number;
}

const WIDTH = 760, HEIGHT = 440;
const LEFT = 76, RIGHT = 28, TOP = 76, BOTTOM = 58;
const PLOT_W = WIDTH - LEFT - RIGHT, PLOT_H = HEIGHT - TOP - BOTTOM;

/**
 * An SVG document of the loss against the step, readable on its own: title, subtitle,
 * labelled axes with round-number ticks, light grid lines, the curve with a dot per logged
 * value (hover a dot for its value in a browser) and the final loss written at its end.
 *
 * @example
 * ```ts
 * import { renderLossSvg } from "./_loss_svg.ts";
 * import assert from "node:assert/strict";
 * const svg = renderLossSvg([{ step: 50, loss: 0.4 }, { step: 100, loss: 0.2 }], {
 *   subtitle: "seed 0",
 * });
 * assert.ok(svg.startsWith("<svg") && svg.includes("seed 0"));
 * ```
 */
export function renderLossSvg(points: readonly LossPoint[], options: LossSvgOptions = {}): string {
  const finite = points.filter((p) => Number.isFinite(p.loss) && Number.isFinite(p.step));
  const title = options.title ?? "Training loss";
  const out = [...svgOpening(WIDTH, HEIGHT, title), text(LEFT, 30, title, 19, { weight: "bold" })];
  if (options.subtitle) out.push(text(LEFT, 52, options.subtitle, 12, { fill: "#555" }));
  const plot = plotArea(finite, options);
  out.push(...axes(plot, options.yLabel ?? "loss"));
  if (options.divergedAt !== undefined) out.push(...divergenceMarker(plot, options.divergedAt));
  out.push(...curve(plot, finite));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** The plot's ticks and the scales from data to pixels. */
interface PlotArea {
  xTicks: number[];
  yTicks: number[];
  x: (step: number) => number;
  y: (loss: number) => number;
  log: boolean;
}

/** Picks the axes: steps from 0, the loss on a log scale when it spans more than 20×. */
function plotArea(finite: readonly LossPoint[], options: LossSvgOptions): PlotArea {
  const maxStep = Math.max(1, options.divergedAt ?? 0, ...finite.map((p) => p.step));
  // Steps are whole numbers: at most one tick per step.
  const xTicks = niceTicks(0, maxStep, Math.min(8, maxStep));
  const x = linearScale(0, xTicks.at(-1)!, LEFT, LEFT + PLOT_W);
  const losses = finite.map((p) => p.loss);
  const lo = Math.min(...losses), hi = Math.max(...losses);
  const log = options.yScale === "log" ||
    (options.yScale !== "linear" && lo > 0 && hi / lo > 20);
  const yTicks = finite.length === 0
    ? [0, 1]
    : log && lo > 0
    ? logTicks(lo, hi)
    : niceTicks(Math.min(0, lo), hi, 6);
  const y = log && lo > 0
    ? logScale(yTicks[0], yTicks.at(-1)!, TOP + PLOT_H, TOP)
    : linearScale(yTicks[0], yTicks.at(-1)!, TOP + PLOT_H, TOP);
  return { xTicks, yTicks, x, y, log };
}

/** Grid lines, tick labels, the frame and the axis labels. */
function axes({ xTicks, yTicks, x, y, log }: PlotArea, yLabel: string): string[] {
  const out: string[] = [];
  for (const t of yTicks) {
    const py = round(y(t));
    out.push(line(LEFT, py, LEFT + PLOT_W, py, "#e5e7eb"));
    out.push(text(LEFT - 8, py + 4, formatTick(t), 12, { anchor: "end", fill: "#333" }));
  }
  for (const t of xTicks) {
    const px = round(x(t));
    out.push(line(px, TOP, px, TOP + PLOT_H, "#f0f1f3"));
    out.push(line(px, TOP + PLOT_H, px, TOP + PLOT_H + 5, "#333"));
    out.push(
      text(px, TOP + PLOT_H + 20, formatTick(t), 12, { anchor: "middle", fill: "#333" }),
    );
  }
  out.push(
    `<rect x="${LEFT}" y="${TOP}" width="${PLOT_W}" height="${PLOT_H}" ` +
      `fill="none" stroke="#333"/>`,
  );
  out.push(text(LEFT + PLOT_W / 2, HEIGHT - 14, "step", 13, { anchor: "middle" }));
  out.push(verticalText(20, TOP + PLOT_H / 2, yLabel + (log ? " (log scale)" : ""), 13));
  return out;
}

/** A dashed red line at the step where training diverged, labelled at the bottom. */
function divergenceMarker({ x }: PlotArea, divergedAt: number): string[] {
  const px = round(x(divergedAt));
  const anchor = px > LEFT + PLOT_W * 0.7 ? "end" : "start";
  const dx = anchor === "end" ? -6 : 6;
  return [
    `<line x1="${px}" y1="${TOP}" x2="${px}" y2="${TOP + PLOT_H}" stroke="#dc2626" ` +
    `stroke-width="1.5" stroke-dasharray="6 4"/>`,
    // At the bottom: the curve rises towards a divergence, so the top is taken.
    text(px + dx, TOP + PLOT_H - 10, `diverged at step ${divergedAt}`, 12, {
      anchor,
      fill: "#dc2626",
    }),
  ];
}

/** The loss curve, a dot per value while they stay apart, and the last value written. */
function curve({ x, y }: PlotArea, finite: readonly LossPoint[]): string[] {
  if (finite.length === 0) {
    return [text(LEFT + PLOT_W / 2, TOP + PLOT_H / 2, "no finite loss values were logged", 14, {
      anchor: "middle",
      fill: "#888",
    })];
  }
  const coords = finite.map((p) => `${round(x(p.step))},${round(y(p.loss))}`);
  const out = [
    `<polyline points="${coords.join(" ")}" fill="none" stroke="#2563eb" ` +
    `stroke-width="2" stroke-linejoin="round"/>`,
  ];
  // Dots only while they stay apart; a dense curve reads better as a line.
  if (finite.length <= 120) {
    for (const p of finite) {
      out.push(
        `<circle cx="${round(x(p.step))}" cy="${round(y(p.loss))}" r="2.8" fill="#2563eb">` +
          `<title>step ${p.step}: ${p.loss.toPrecision(6)}</title></circle>`,
      );
    }
  }
  const last = finite.at(-1)!;
  const lx = round(x(last.step)), ly = round(y(last.loss));
  const anchor = lx > LEFT + PLOT_W * 0.8 ? "end" : "start";
  out.push(text(lx + (anchor === "end" ? -6 : 6), ly - 8, formatValue(last.loss), 12, {
    anchor,
    fill: "#1e40af",
    weight: "bold",
  }));
  return out;
}

/** Ticks at powers of ten covering [lo, hi], or 1-2-5 or every multiple of them if few. */
function logTicks(lo: number, hi: number): number[] {
  const from = Math.floor(Math.log10(lo)), to = Math.ceil(Math.log10(hi));
  const pick = (multiples: number[]) => {
    const all: number[] = [];
    for (let e = from; e <= to; e++) {
      for (const m of multiples) all.push(Number((m * 10 ** e).toPrecision(12)));
    }
    // Keep the ticks inside the data plus one on each side, so the curve fills the plot.
    const below = all.filter((t) => t <= lo).at(-1) ?? all[0];
    const above = all.find((t) => t >= hi) ?? all.at(-1)!;
    return all.filter((t) => t >= below && t <= above);
  };
  // The sparsest set that still gives four ticks: decades, then 1-2-5, then every digit.
  for (const multiples of [[1], [1, 2, 5]]) {
    const ticks = pick(multiples);
    if (ticks.length >= 4) return ticks;
  }
  return pick([1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  return (v) => r0 + (v - d0) / (d1 - d0) * (r1 - r0);
}

function logScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const l0 = Math.log10(d0), l1 = Math.log10(d1);
  return (v) => r0 + (Math.log10(v) - l0) / (l1 - l0) * (r1 - r0);
}

function formatTick(v: number): string {
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential(0);
  return String(Number(v.toPrecision(6)));
}

function formatValue(v: number): string {
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}
