// Draws ROC or precision–recall curves as a standalone SVG: one panel per model, a line per fold, the mean.

import type { Curve } from "../lib/nn/metrics.ts";
import { escape, line, niceTicks, round, text } from "./_svg.ts";

/** One panel: a model's fold curves and its summary label. */
export interface CurvePanel {
  /** The model's name, the panel's heading. */
  name: string;
  /** One curve per fold. */
  curves: readonly Curve[];
  /** Written under the heading, e.g. "ROC AUC 0.978 ± 0.003". */
  label: string;
}

/** Options for {@linkcode renderCurvesSvg}. */
export interface CurvesSvgOptions {
  /** `"roc"`: FPR against TPR, mean by vertical averaging; `"pr"`: recall against precision. */
  kind: "roc" | "pr";
  /** Heading. */
  title: string;
  /** A smaller line under the title (data, folds, seed). */
  subtitle: string;
}

const PANEL_W = 380, PANEL_H = 330, COLS = 2;
const PAD_LEFT = 62, PAD_RIGHT = 18, PAD_TOP = 52, PAD_BOTTOM = 50;
const HEADER = 70;
const GRID = 201; // points per resampled curve: enough for smooth lines, small files

/**
 * A grid of panels (two per row), each with its model's fold curves as thin light lines and
 * their mean as a thick dark line, labelled in a legend; axes from 0 to 1 with round ticks.
 * Fold curves are resampled on 201 points of the x axis: ROC by the largest TPR reached at
 * each FPR (the step curve), PR by the interpolated precision (the best precision at that
 * recall or beyond); the mean is the pointwise mean of the resampled folds.
 *
 * @example
 * ```ts
 * import { renderCurvesSvg } from "./_curves_svg.ts";
 * import { rocCurve } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const curve = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
 * const svg = renderCurvesSvg([{ name: "toy", curves: [curve], label: "AUC 0.75" }], {
 *   kind: "roc", title: "ROC", subtitle: "1 fold",
 * });
 * assert.ok(svg.startsWith("<svg") && svg.includes("AUC 0.75") && svg.includes("mean of 1 fold"));
 * ```
 */
export function renderCurvesSvg(panels: readonly CurvePanel[], options: CurvesSvgOptions): string {
  const rows = Math.ceil(panels.length / COLS);
  const width = COLS * PANEL_W, height = HEADER + rows * PANEL_H;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escape(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(PAD_LEFT, 30, options.title, 19, { weight: "bold" }),
    text(PAD_LEFT, 52, options.subtitle, 12, { fill: "#555" }),
  ];
  panels.forEach((panel, k) => {
    const x0 = (k % COLS) * PANEL_W, y0 = HEADER + Math.floor(k / COLS) * PANEL_H;
    out.push(...drawPanel(panel, options.kind, x0, y0));
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/**
 * `curve` resampled at `GRID` evenly spaced x values in [0, 1]. ROC: linear interpolation
 * between its points (a run of tied scores is a straight segment, as the AUC counts it), the
 * highest point where the curve jumps. PR: the interpolated precision, the largest precision
 * at that recall or beyond.
 */
export function resample(curve: Curve, kind: "roc" | "pr"): number[] {
  const ys: number[] = [];
  const { x: xs, y } = curve;
  let i = 0;
  for (let g = 0; g < GRID; g++) {
    const x = g / (GRID - 1);
    if (kind === "roc") {
      while (i + 1 < xs.length && xs[i + 1] <= x) i++;
      const j = i + 1 < xs.length ? i + 1 : i;
      ys.push(xs[j] > xs[i] ? y[i] + (y[j] - y[i]) * (x - xs[i]) / (xs[j] - xs[i]) : y[i]);
    } else {
      let best = 0;
      for (let k = 0; k < xs.length; k++) if (xs[k] >= x - 1e-12 && y[k] > best) best = y[k];
      ys.push(best);
    }
  }
  return ys;
}

function drawPanel(panel: CurvePanel, kind: "roc" | "pr", x0: number, y0: number): string[] {
  const left = x0 + PAD_LEFT, top = y0 + PAD_TOP;
  const w = PANEL_W - PAD_LEFT - PAD_RIGHT, h = PANEL_H - PAD_TOP - PAD_BOTTOM;
  const px = (v: number) => round(left + v * w), py = (v: number) => round(top + (1 - v) * h);
  const out = [
    text(left, y0 + 18, panel.name, 15, { weight: "bold" }),
    text(left, y0 + 36, panel.label, 12, { fill: "#333" }),
  ];
  for (const t of niceTicks(0, 1, 5)) {
    out.push(line(left, py(t), left + w, py(t), "#e5e7eb"));
    out.push(line(px(t), top, px(t), top + h, "#f0f1f3"));
    out.push(text(left - 6, py(t) + 4, String(t), 11, { anchor: "end", fill: "#333" }));
    out.push(text(px(t), top + h + 16, String(t), 11, { anchor: "middle", fill: "#333" }));
  }
  out.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#333"/>`);
  const [xLabel, yLabel] = kind === "roc"
    ? ["false-positive rate", "true-positive rate (recall)"]
    : ["recall (pulsars found)", "precision"];
  out.push(text(left + w / 2, top + h + 36, xLabel, 12, { anchor: "middle" }));
  out.push(
    `<text transform="translate(${x0 + 16} ${top + h / 2}) rotate(-90)" font-size="12" ` +
      `text-anchor="middle">${escape(yLabel)}</text>`,
  );
  if (kind === "roc") {
    out.push(
      `<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#bbb" ` +
        `stroke-dasharray="4 4"/>`,
    );
  }
  const sampled = panel.curves.map((c) => resample(c, kind));
  const polyline = (ys: number[], stroke: string, widthPx: number) =>
    `<polyline fill="none" stroke="${stroke}" stroke-width="${widthPx}" points="${
      ys.map((y, g) => `${px(g / (GRID - 1))},${py(y)}`).join(" ")
    }"/>`;
  for (const ys of sampled) out.push(polyline(ys, "#93c5fd", 1));
  if (sampled.length > 0) {
    const mean = sampled[0].map((_, g) => sampled.reduce((a, ys) => a + ys[g], 0) / sampled.length);
    out.push(polyline(mean, "#1e3a8a", 2.5));
  }
  // Legend in the empty corner: bottom right for ROC, bottom left for PR.
  const lx = kind === "roc" ? left + w - 150 : left + 10, ly = top + h - 36;
  const n = panel.curves.length;
  out.push(
    `<rect x="${lx - 6}" y="${ly - 14}" width="146" height="40" fill="#fff" stroke="#ccc"/>`,
    line(lx, ly - 4, lx + 22, ly - 4, "#93c5fd"),
    text(lx + 28, ly, `each of ${n} fold${n === 1 ? "" : "s"}`, 11),
    `<line x1="${lx}" y1="${ly + 14}" x2="${lx + 22}" y2="${ly + 14}" stroke="#1e3a8a" ` +
      `stroke-width="2.5"/>`,
    text(lx + 28, ly + 18, `mean of ${n} fold${n === 1 ? "" : "s"}`, 11),
  );
  return out;
}
