// The SVG pieces the scripts' charts share: the document's opening, text, lines and round ticks.

/**
 * The opening lines of a standalone SVG document of `width`×`height` pixels: the root element,
 * its `<title>` and a white background. The caller adds the content and `</svg>`.
 *
 * @example
 * ```ts
 * import { svgOpening } from "./_svg.ts";
 * import assert from "node:assert/strict";
 * const lines = svgOpening(100, 50, "A & B");
 * assert.ok(lines[0].startsWith("<svg") && lines[1] === "<title>A &amp; B</title>");
 * ```
 */
export function svgOpening(width: number, height: number, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escape(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
}

/** How a {@linkcode text} element looks beyond its font size. */
export interface TextStyle {
  /** `text-anchor`: "start" (default), "middle" or "end". */
  anchor?: string;
  /** The fill colour; black when omitted. */
  fill?: string;
  /** `font-weight`, e.g. "bold". */
  weight?: string;
}

/**
 * A `<text>` element at (x, y), its content escaped.
 *
 * @example
 * ```ts
 * import { text } from "./_svg.ts";
 * import assert from "node:assert/strict";
 * assert.equal(text(1, 2, "a<b", 12, { anchor: "end" }),
 *   '<text x="1" y="2" font-size="12" text-anchor="end">a&lt;b</text>');
 * ```
 */
export function text(
  x: number,
  y: number,
  content: string,
  size: number,
  style: TextStyle = {},
): string {
  const attrs = [`x="${x}"`, `y="${y}"`, `font-size="${size}"`];
  if (style.anchor) attrs.push(`text-anchor="${style.anchor}"`);
  if (style.fill) attrs.push(`fill="${style.fill}"`);
  if (style.weight) attrs.push(`font-weight="${style.weight}"`);
  return `<text ${attrs.join(" ")}>${escape(content)}</text>`;
}

/**
 * A y-axis label: text centred on (x, y) and turned to read upwards.
 *
 * @example
 * ```ts
 * import { verticalText } from "./_svg.ts";
 * import assert from "node:assert/strict";
 * assert.ok(verticalText(20, 100, "loss", 13).includes("rotate(-90)"));
 * ```
 */
export function verticalText(x: number, y: number, content: string, size: number): string {
  return `<text transform="translate(${x} ${y}) rotate(-90)" font-size="${size}" ` +
    `text-anchor="middle">${escape(content)}</text>`;
}

/**
 * A one-pixel `<line>` from (x1, y1) to (x2, y2).
 *
 * @example
 * ```ts
 * import { line } from "./_svg.ts";
 * import assert from "node:assert/strict";
 * assert.equal(line(0, 1, 2, 3, "#333"), '<line x1="0" y1="1" x2="2" y2="3" stroke="#333"/>');
 * ```
 */
export function line(x1: number, y1: number, x2: number, y2: number, stroke: string): string {
  return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${stroke}"/>`;
}

/**
 * A pixel coordinate rounded to a tenth, which keeps the files small.
 *
 * @example
 * ```ts
 * import { round } from "./_svg.ts";
 * import assert from "node:assert/strict";
 * assert.equal(round(12.345), 12.3);
 * ```
 */
export function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/**
 * `s` with `&`, `<` and `>` escaped, for text content and attribute-free markup.
 *
 * @example
 * ```ts
 * import { escape } from "./_svg.ts";
 * import assert from "node:assert/strict";
 * assert.equal(escape("a<b & c"), "a&lt;b &amp; c");
 * ```
 */
export function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Round-number ticks covering [lo, hi] with about `count` intervals, steps of 1, 2 or 5
 * times a power of ten; the first tick is ≤ lo and the last ≥ hi.
 *
 * @example
 * ```ts
 * import { niceTicks } from "./_svg.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(niceTicks(0, 1000, 5), [0, 200, 400, 600, 800, 1000]);
 * ```
 */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return niceTicks(lo - pad, hi + pad, count);
  }
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const first = Math.floor(lo / step), last = Math.ceil(hi / step);
  const ticks: number[] = [];
  // Multiplying integers by the step (not adding) keeps labels like 0.30000000000000004 away.
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}
