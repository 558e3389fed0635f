/**
 * Text for the controls and the overlay: numbers, units, slider labels.
 *
 * Units arrive as OME-NGFF unit names ("micrometer", "second", ...) and are
 * shown as their symbols ("µm", "s"); unknown units are shown as given.
 *
 * Pure functions: no DOM.
 */

import type { SliderInfo } from "./protocol";

const UNIT_SYMBOLS: Record<string, string> = {
  angstrom: "Å",
  attometer: "am",
  centimeter: "cm",
  decimeter: "dm",
  exameter: "Em",
  femtometer: "fm",
  foot: "ft",
  gigameter: "Gm",
  hectometer: "hm",
  inch: "in",
  kilometer: "km",
  megameter: "Mm",
  meter: "m",
  micrometer: "µm",
  micron: "µm",
  mile: "mi",
  millimeter: "mm",
  nanometer: "nm",
  parsec: "pc",
  petameter: "Pm",
  picometer: "pm",
  terameter: "Tm",
  yard: "yd",
  zeptometer: "zm",
  zettameter: "Zm",
  attosecond: "as",
  centisecond: "cs",
  day: "d",
  decisecond: "ds",
  femtosecond: "fs",
  hour: "h",
  microsecond: "µs",
  millisecond: "ms",
  minute: "min",
  nanosecond: "ns",
  picosecond: "ps",
  second: "s",
};

/** Symbol of an OME-NGFF unit name ("micrometer" -> "µm"); "" stays "". */
export function unitSymbol(unit: string | null | undefined): string {
  if (!unit) return "";
  return UNIT_SYMBOLS[unit.toLowerCase()] ?? unit;
}

/**
 * Decimals to print multiples of `step` with: the fewest that write it
 * exactly (0.25 -> 2, 0.5 -> 1, 2 -> 0), else enough for two significant
 * digits of the step; at most 6.
 */
export function decimalsFor(step: number): number {
  const s = Math.abs(step);
  if (!Number.isFinite(s)) return 2;
  for (let d = 0; d <= 6; d++) {
    const scaled = s * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) <= 1e-9 * Math.max(1, scaled)) return d;
  }
  return Math.min(6, Math.max(1, Math.ceil(-Math.log10(s)) + 1));
}

/** A value with a number of decimals, without "-0". */
export function formatFixed(value: number, decimals: number): string {
  const text = value.toFixed(decimals);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** "6.0 µm" / "12 s" / "3.5" (no unit). */
export function formatQuantity(value: number, decimals: number, unit: string): string {
  const symbol = unitSymbol(unit);
  const text = formatFixed(value, decimals);
  return symbol ? `${text} ${symbol}` : text;
}

/** Whether a slider's axis has a physical position (not channels). */
export function hasPhysicalPosition(slider: SliderInfo): boolean {
  return slider.type !== "channel";
}

/**
 * Label of a slider: axis name, index / last index, and the physical
 * position with unit, e.g. "z 12 / 63 · 6.0 µm". Channel axes show their
 * label when they have one ("c 1 / 2 · membrane"), else no position ("c 1 / 2").
 */
export function sliderLabel(slider: SliderInfo, index: number): string {
  const head = `${slider.name} ${index} / ${slider.size - 1}`;
  const label = slider.labels[index];
  if (label !== undefined && label !== "") return `${head} · ${label}`;
  if (!hasPhysicalPosition(slider)) return head;
  let decimals = Math.max(decimalsFor(slider.scale), decimalsFor(slider.offset));
  // A fractional step reads better with at least one decimal: "6.0 µm", not "6 µm".
  if (!Number.isInteger(slider.scale)) decimals = Math.max(decimals, 1);
  return `${head} · ${formatQuantity(slider.offset + slider.scale * index, decimals, slider.unit)}`;
}

/** Decimals to show a world coordinate with when one CSS pixel is `scale` world units. */
export function coordinateDecimals(scale: number): number {
  if (!(scale > 0) || !Number.isFinite(scale)) return 2;
  return Math.min(6, Math.max(0, Math.ceil(-Math.log10(scale) - 1e-9)));
}

/** Cursor readout: "y 12.5, x 40.2 µm". */
export function formatPosition(
  world: [number, number],
  scale: number,
  unit: string,
  names: readonly [string, string] = ["y", "x"],
): string {
  const d = coordinateDecimals(scale);
  const symbol = unitSymbol(unit);
  return `${names[0]} ${formatFixed(world[0], d)}, ${names[1]} ${formatFixed(world[1], d)}${symbol ? ` ${symbol}` : ""}`;
}

/** The names of the displayed [vertical, horizontal] axes from the `plane` trait ("xz": z down, x across). */
export function planeNames(plane: unknown): [string, string] {
  return typeof plane === "string" && plane.length === 2 ? [plane[1]!, plane[0]!] : ["y", "x"];
}

/** "1 tile loading" / "12 tiles loading" / "" when nothing is pending. */
export function formatPending(pending: number): string {
  if (pending <= 0) return "";
  return `${pending} tile${pending === 1 ? "" : "s"} loading`;
}

/** Zoom as a percentage of native resolution: "100%", "12.5%", "800%". */
export function formatZoom(zoom: number): string {
  const pct = zoom * 100;
  if (!Number.isFinite(pct) || pct <= 0) return "";
  const d = pct >= 10 ? 0 : pct >= 1 ? 1 : 2;
  return `${formatFixed(pct, d)}%`;
}
