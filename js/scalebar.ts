/**
 * The scale bar: a round physical length (1, 2 or 5 times a power of ten, in
 * the unit prefix that reads best: nm, µm, mm, m, km) about
 * {@link TARGET_CSS_PX} CSS pixels long, re-chosen as the view zooms.
 *
 * World units are physical and isotropic by construction (an image with
 * anisotropic pixels is drawn at its true aspect), so one horizontal bar is
 * right along both axes. Images whose unit is not a length (none, or an
 * unknown one) get a bar in world units without a symbol.
 *
 * {@link chooseScaleBar} is pure; {@link ScaleBar} is its DOM element, written
 * only when its text or length changes.
 */

import { unitSymbol } from "./format";

/** The bar aims at about this many CSS pixels (and never exceeds 2.5x it). */
export const TARGET_CSS_PX = 110;

/** Metres per world unit, for the OME-NGFF length units. */
const METRES: Record<string, number> = {
  angstrom: 1e-10,
  attometer: 1e-18,
  centimeter: 1e-2,
  decimeter: 1e-1,
  exameter: 1e18,
  femtometer: 1e-15,
  foot: 0.3048,
  gigameter: 1e9,
  hectometer: 1e2,
  inch: 0.0254,
  kilometer: 1e3,
  megameter: 1e6,
  meter: 1,
  micrometer: 1e-6,
  micron: 1e-6,
  mile: 1609.344,
  millimeter: 1e-3,
  nanometer: 1e-9,
  parsec: 3.0857e16,
  petameter: 1e15,
  picometer: 1e-12,
  terameter: 1e12,
  yard: 0.9144,
  yoctometer: 1e-24,
  yottameter: 1e24,
  zeptometer: 1e-21,
  zettameter: 1e21,
};

/** Display units, smallest first: [symbol, metres]. */
const PREFIXES: [string, number][] = [
  ["pm", 1e-12],
  ["nm", 1e-9],
  ["µm", 1e-6],
  ["mm", 1e-3],
  ["m", 1],
  ["km", 1e3],
];

export interface ScaleBarSpec {
  /** Bar length in CSS pixels. */
  px: number;
  /** e.g. "20 µm", "500 nm", "2 mm", or "50" without a length unit. */
  label: string;
}

/** The largest 1/2/5 x 10^k not above `x` (x > 0). */
export function roundDown125(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  const m = x / p;
  return (m >= 5 ? 5 : m >= 2 ? 2 : 1) * p;
}

function trim(value: number): string {
  // 1/2/5 x 10^k in a chosen prefix is a small integer or a short decimal.
  return String(Number(value.toPrecision(6)));
}

/**
 * The scale bar for a view where one CSS pixel is `scale` world units of
 * `unit` (an OME-NGFF unit name), or null when nothing sensible fits.
 */
export function chooseScaleBar(scale: number, unit: string): ScaleBarSpec | null {
  if (!(scale > 0) || !Number.isFinite(scale)) return null;
  const metres = METRES[unit.toLowerCase()];
  if (metres === undefined) {
    const length = roundDown125(TARGET_CSS_PX * scale);
    const symbol = unitSymbol(unit);
    return { px: length / scale, label: symbol ? `${trim(length)} ${symbol}` : trim(length) };
  }
  const lengthM = roundDown125(TARGET_CSS_PX * scale * metres);
  // The largest prefix in which the length is at least 1 ("500 nm", not "0.5 µm").
  let [symbol, unitM] = PREFIXES[0]!;
  for (const [s, m] of PREFIXES) if (lengthM >= m * (1 - 1e-9)) [symbol, unitM] = [s, m];
  return { px: lengthM / metres / scale, label: `${trim(lengthM / unitM)} ${symbol}` };
}

/** The bar's DOM: a line and its label, bottom right of the stage. */
export class ScaleBar {
  readonly el: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly label: HTMLElement;
  private shown = "";

  constructor() {
    this.el = document.createElement("div");
    this.el.className = "sz-scalebar";
    this.bar = document.createElement("div");
    this.bar.className = "sz-scalebar-bar";
    this.label = document.createElement("div");
    this.label.className = "sz-scalebar-label";
    this.el.append(this.label, this.bar);
    this.el.hidden = true;
  }

  /** Show `spec` (null or `visible` false hides the bar). */
  update(spec: ScaleBarSpec | null, visible: boolean): void {
    const key = spec === null || !visible ? "" : `${spec.px.toFixed(2)}|${spec.label}`;
    if (key === this.shown) return;
    this.shown = key;
    this.el.hidden = key === "";
    if (spec === null || key === "") return;
    this.bar.style.width = `${spec.px}px`;
    this.label.textContent = spec.label;
    this.el.dataset.px = String(spec.px);
  }

  dispose(): void {
    this.el.remove();
  }
}
