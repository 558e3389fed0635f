/**
 * Tile outlines (the `show_tiles` trait): which lines to draw for the tiles
 * of a frame, and in which colour, so that a class can see the pyramid's
 * chunk grid and which level is on screen.
 *
 * - Colour: one per level from a fixed palette of clearly distinct,
 *   saturated hues (level 0 yellow, 1 cyan, 2 magenta, 3 lime, 4 orange,
 *   5 blue, 6 red, then again from yellow). None is gray, so an outline never
 *   looks like image data.
 * - Lines are exactly one *device* pixel wide and sit on whole device pixels
 *   (crisp, never blurred over two): an edge at device coordinate `e` is
 *   drawn on the pixel that contains it, `floor(e)`. Two tiles that share an
 *   edge therefore draw the same pixels. An edge lying exactly on the
 *   canvas's far border is drawn on the last pixel, so a fitted image shows
 *   its right and bottom edges.
 * - Order: the outlines follow the tiles' draw order (coarse under fine), so
 *   where edges of two levels coincide the level drawn last (the level in
 *   use) shows. Consecutive tiles of one level form one run (one draw call).
 * - Lines are clipped to the canvas, so device coordinates stay small (exact
 *   in float32) however far a coarse tile reaches outside the view.
 *
 * Pure functions: no DOM, no WebGL.
 */

import type { Rect } from "./protocol";

/** An 8-bit sRGB colour. */
export type RGB = readonly [number, number, number];

/** Outline colour per level, cycling (see the module docstring). */
export const OUTLINE_PALETTE: readonly RGB[] = [
  [255, 221, 0], // yellow
  [34, 211, 238], // cyan
  [240, 67, 224], // magenta
  [132, 225, 31], // lime
  [255, 120, 0], // orange
  [91, 140, 255], // blue
  [255, 64, 96], // red
];

/** Outline colour of `level` (cycling through {@link OUTLINE_PALETTE}). */
export function outlineColor(level: number): RGB {
  const n = OUTLINE_PALETTE.length;
  const i = ((Math.trunc(level) % n) + n) % n;
  return OUTLINE_PALETTE[i]!;
}

/** `"#rrggbb"` of a colour. */
export function cssColor(rgb: RGB): string {
  return `#${rgb.map((v) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, "0")).join("")}`;
}

/** What outlining needs to know about a drawn tile. */
export interface OutlineTile {
  level: number;
  /** [y0, x0, y1, x1] world coordinates of the tile's outer pixel edges. */
  bounds: Rect;
}

/** Consecutive quads of one level, drawn in one colour. */
export interface OutlineRun {
  level: number;
  color: RGB;
  /** Index of the run's first quad in {@link OutlinePlan.quads} (4 numbers per quad). */
  first: number;
  /** Number of quads. */
  count: number;
}

export interface OutlinePlan {
  /** [x0, y0, x1, y1] per quad, device pixels from the canvas's top-left corner, x0 < x1, y0 < y1. */
  quads: Float32Array;
  runs: OutlineRun[];
  /** Levels that have at least one tile in the frame, ascending (the legend). */
  levels: number[];
}

/** Slack for edges that land on a pixel border up to rounding. */
const EDGE_EPS = 1e-6;

/**
 * The device pixel (column or row) that draws an edge at device coordinate
 * `e` on a canvas `n` pixels long: the pixel containing it, or the last
 * pixel for an edge on the far border. May be outside `0..n-1`.
 */
export function edgePixel(e: number, n: number): number {
  const p = Math.floor(e + EDGE_EPS);
  return p === n && e <= n + EDGE_EPS ? n - 1 : p;
}

/**
 * The outline quads of `tiles` (in draw order) on a canvas of `width` x
 * `height` device pixels.
 *
 * @param toDevice world [y, x] -> device pixels [y, x] from the top-left corner
 */
export function planOutlines(
  tiles: Iterable<OutlineTile>,
  toDevice: (world: [number, number]) => [number, number],
  width: number,
  height: number,
): OutlinePlan {
  const out: number[] = [];
  const runs: OutlineRun[] = [];
  const levels = new Set<number>();
  const quad = (x0: number, y0: number, x1: number, y1: number): void => {
    // Inclusive pixel spans, clipped to the canvas; nothing when outside.
    const cx0 = Math.max(x0, 0);
    const cx1 = Math.min(x1, width - 1);
    const cy0 = Math.max(y0, 0);
    const cy1 = Math.min(y1, height - 1);
    if (cx0 > cx1 || cy0 > cy1) return;
    out.push(cx0, cy0, cx1 + 1, cy1 + 1);
  };
  for (const t of tiles) {
    const [dy0, dx0] = toDevice([t.bounds[0], t.bounds[1]]);
    const [dy1, dx1] = toDevice([t.bounds[2], t.bounds[3]]);
    if (![dy0, dx0, dy1, dx1].every(Number.isFinite)) continue;
    const c0 = edgePixel(Math.min(dx0, dx1), width);
    const c1 = edgePixel(Math.max(dx0, dx1), width);
    const r0 = edgePixel(Math.min(dy0, dy1), height);
    const r1 = edgePixel(Math.max(dy0, dy1), height);
    levels.add(t.level);
    const before = out.length;
    quad(c0, r0, c1, r0); // top
    quad(c0, r1, c1, r1); // bottom
    quad(c0, r0 + 1, c0, r1 - 1); // left, between top and bottom
    quad(c1, r0 + 1, c1, r1 - 1); // right
    const added = (out.length - before) / 4;
    if (added === 0) continue;
    const last = runs[runs.length - 1];
    if (last !== undefined && last.level === t.level) {
      last.count += added;
    } else {
      runs.push({ level: t.level, color: outlineColor(t.level), first: before / 4, count: added });
    }
  }
  return { quads: new Float32Array(out), runs, levels: [...levels].sort((a, b) => a - b) };
}
