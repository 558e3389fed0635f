/**
 * The chunk grid overlay (the `show_chunks` trait): the chunk grid of the
 * level in use, each chunk the pool has filled by its state, with a legend.
 *
 * The kernel publishes the private trait `_chunk_states`
 * (`simplezarr/viewer/_iostats.py`): `{states: ["held", "cached", "loading",
 * "failed"], levels: {"<level>": [[iy, ix, code], ...]}}`, the chunks of each
 * level in use that intersect a live view, `code` indexing `states`. This
 * module draws the entries of the level this view uses:
 *
 * - Grid lines: every chunk of that level in the view, outlined the way tile
 *   outlines are ({@link planOutlines}: one device pixel wide, on whole device
 *   pixels, in the level's outline colour), so grid and tile outlines agree.
 * - Cells: filled, translucent, in the colour of their state (held green,
 *   cached blue, loading amber, failed red: the failed-tile stripes' red),
 *   between the grid lines; a chunk the pool does not have is left clear.
 * - A legend names the four colours with the count of each drawn.
 *
 * Drawn on a 2D canvas laid over the image (pointer events pass through),
 * sized in device pixels like the image's canvas. At most
 * {@link MAX_GRID_CELLS} cells are outlined; beyond (a view zoomed far out of
 * the level in use, which the level choice avoids) only states are filled.
 *
 * The planning functions are pure; {@link ChunkGridOverlay} owns the DOM.
 */

import { type Camera, type ViewSize, worldToScreen } from "./camera";
import { type RGB, cssColor, edgePixel, planOutlines } from "./outlines";
import type { LevelInfo, Rect } from "./protocol";

/** The chunk states, in the kernel's order (`CHUNK_STATES`). */
export const CHUNK_STATES = ["held", "cached", "loading", "failed"] as const;
export type ChunkState = (typeof CHUNK_STATES)[number];

/** Fill colour per state (the legend's swatches). */
export const STATE_COLORS: Record<ChunkState, RGB> = {
  held: [64, 200, 120],
  cached: [80, 150, 255],
  loading: [255, 184, 28],
  failed: [224, 64, 64], // the failed-tile stripes' colour (renderer.ts FAILED_COLOR)
};

/** Opacity of a cell's fill: the image stays readable under it. */
export const FILL_ALPHA = 0.35;

/** Most chunk cells outlined in one frame. */
export const MAX_GRID_CELLS = 4096;

/** One chunk of the trait: [iy, ix] along the displayed axes and its state. */
export interface ChunkEntry {
  iy: number;
  ix: number;
  state: ChunkState;
}

/** The `_chunk_states` trait, parsed: entries per level. */
export type ChunkStates = Map<number, ChunkEntry[]>;

/** Parse the `_chunk_states` trait; anything malformed is left out (empty when off). */
export function parseChunkStates(raw: unknown): ChunkStates {
  const out: ChunkStates = new Map();
  if (typeof raw !== "object" || raw === null) return out;
  const { states, levels } = raw as { states?: unknown; levels?: unknown };
  if (!Array.isArray(states) || typeof levels !== "object" || levels === null) return out;
  const names = states.map((s) => (CHUNK_STATES as readonly unknown[]).includes(s) ? (s as ChunkState) : null);
  for (const [key, list] of Object.entries(levels as Record<string, unknown>)) {
    const level = Number(key);
    if (!Number.isInteger(level) || level < 0 || !Array.isArray(list)) continue;
    const entries: ChunkEntry[] = [];
    for (const e of list) {
      if (!Array.isArray(e) || e.length !== 3) continue;
      const [iy, ix, code] = e as unknown[];
      const state = typeof code === "number" ? names[code] : null;
      if (Number.isInteger(iy) && Number.isInteger(ix) && state) entries.push({ iy: iy as number, ix: ix as number, state });
    }
    out.set(level, entries);
  }
  return out;
}

/** World rectangle [y0, x0, y1, x1] (outer pixel edges) of chunk (iy, ix) of `level`, edges cut. */
export function chunkRect(level: LevelInfo, iy: number, ix: number): Rect {
  const [sy, sx] = level.scale;
  const [oy, ox] = level.offset;
  const [ch, cw] = level.chunk;
  const py1 = Math.min((iy + 1) * ch, level.shape[0]);
  const px1 = Math.min((ix + 1) * cw, level.shape[1]);
  return [oy + (iy * ch - 0.5) * sy, ox + (ix * cw - 0.5) * sx, oy + (py1 - 0.5) * sy, ox + (px1 - 0.5) * sx];
}

/** Chunk index ranges [first, end) along y and x of `level` that intersect world rectangle `view`. */
export function chunkRange(level: LevelInfo, view: Rect): { y: [number, number]; x: [number, number] } {
  const axis = (lo: number, hi: number, a: 0 | 1): [number, number] => {
    const s = level.scale[a];
    const p0 = Math.max(0, Math.floor((lo - level.offset[a]) / s + 0.5));
    const p1 = Math.min(level.shape[a], Math.ceil((hi - level.offset[a]) / s + 0.5));
    if (!(p1 > p0)) return [0, 0];
    return [Math.floor(p0 / level.chunk[a]), Math.ceil(p1 / level.chunk[a])];
  };
  return { y: axis(view[0], view[2], 0), x: axis(view[1], view[3], 1) };
}

/** A filled cell, in device pixels from the canvas's top-left corner (x0 < x1, y0 < y1). */
export interface GridCell {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  state: ChunkState;
  iy: number;
  ix: number;
}

export interface GridPlan {
  /** Grid lines, as tile outlines are planned. */
  lines: ReturnType<typeof planOutlines>;
  /** Cells to fill, clipped to the canvas, between the grid lines. */
  cells: GridCell[];
  /** Cells filled per state (the legend and `data-chunks`). */
  counts: Record<ChunkState, number>;
}

/** A world -> device-pixel mapping for a camera on a canvas of `width` x `height` device pixels. */
export function deviceMapping(
  cam: Camera,
  size: ViewSize,
  width: number,
  height: number,
): (world: [number, number]) => [number, number] {
  return (p) => {
    const [sy, sx] = worldToScreen(cam, size, p);
    return [(sy * height) / size.height, (sx * width) / size.width];
  };
}

/**
 * Plan the grid of level `levelIndex` (`level`) over `view` and the cells of `entries`.
 *
 * @param toDevice world [y, x] -> device pixels [y, x] (see {@link deviceMapping})
 */
export function planChunkGrid(
  level: LevelInfo,
  levelIndex: number,
  entries: readonly ChunkEntry[],
  view: Rect,
  toDevice: (world: [number, number]) => [number, number],
  width: number,
  height: number,
): GridPlan {
  const range = chunkRange(level, view);
  const ny = range.y[1] - range.y[0];
  const nx = range.x[1] - range.x[0];
  const tiles: { level: number; bounds: Rect }[] = [];
  if (ny * nx <= MAX_GRID_CELLS) {
    for (let iy = range.y[0]; iy < range.y[1]; iy++) {
      for (let ix = range.x[0]; ix < range.x[1]; ix++) tiles.push({ level: levelIndex, bounds: chunkRect(level, iy, ix) });
    }
  }
  const counts: Record<ChunkState, number> = { held: 0, cached: 0, loading: 0, failed: 0 };
  const cells: GridCell[] = [];
  for (const e of entries) {
    if (e.iy < range.y[0] || e.iy >= range.y[1] || e.ix < range.x[0] || e.ix >= range.x[1]) continue;
    const b = chunkRect(level, e.iy, e.ix);
    const [dy0, dx0] = toDevice([b[0], b[1]]);
    const [dy1, dx1] = toDevice([b[2], b[3]]);
    // Inside the outline: from the pixel after the first edge's to the one before the second's.
    const x0 = Math.max(0, edgePixel(Math.min(dx0, dx1), width) + 1);
    const y0 = Math.max(0, edgePixel(Math.min(dy0, dy1), height) + 1);
    const x1 = Math.min(width, edgePixel(Math.max(dx0, dx1), width));
    const y1 = Math.min(height, edgePixel(Math.max(dy0, dy1), height));
    if (x1 <= x0 || y1 <= y0) continue;
    cells.push({ x0, y0, x1, y1, state: e.state, iy: e.iy, ix: e.ix });
    counts[e.state]++;
  }
  return { lines: planOutlines(tiles, toDevice, width, height), cells, counts };
}

/** CSS `rgba()` of a state's fill. */
export function fillColor(state: ChunkState, alpha = FILL_ALPHA): string {
  const [r, g, b] = STATE_COLORS[state];
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** The overlay canvas and its legend. */
export class ChunkGridOverlay {
  readonly canvas: HTMLCanvasElement;
  readonly legend: HTMLElement;
  private readonly counts = new Map<ChunkState, HTMLElement>();
  private drawn = false;

  constructor() {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "sz-chunkgrid";
    this.canvas.hidden = true;
    this.legend = document.createElement("div");
    this.legend.className = "sz-chunk-legend";
    this.legend.hidden = true;
    for (const state of CHUNK_STATES) {
      const item = document.createElement("span");
      item.className = "sz-chunk-legend-item";
      item.dataset.state = state;
      const swatch = document.createElement("span");
      swatch.className = "sz-chunk-swatch";
      swatch.style.background = cssColor(STATE_COLORS[state]);
      const count = document.createElement("span");
      count.className = "sz-chunk-count";
      this.counts.set(state, count);
      item.append(swatch, state, count);
      this.legend.appendChild(item);
    }
  }

  /**
   * Draw `plan` on a canvas of `width` x `height` device pixels, or hide the
   * overlay (`plan` null). Returns the counts drawn.
   */
  draw(plan: GridPlan | null, width: number, height: number): Record<ChunkState, number> | null {
    this.canvas.hidden = plan === null;
    this.legend.hidden = plan === null;
    if (plan === null) {
      if (this.drawn) this.canvas.getContext("2d")?.clearRect(0, 0, this.canvas.width, this.canvas.height);
      this.drawn = false;
      return null;
    }
    const w = Math.max(1, Math.round(width));
    const h = Math.max(1, Math.round(height));
    if (this.canvas.width !== w) this.canvas.width = w;
    if (this.canvas.height !== h) this.canvas.height = h;
    const ctx = this.canvas.getContext("2d");
    if (ctx === null) return null;
    ctx.clearRect(0, 0, w, h);
    for (const c of plan.cells) {
      ctx.fillStyle = fillColor(c.state);
      ctx.fillRect(c.x0, c.y0, c.x1 - c.x0, c.y1 - c.y0);
    }
    const q = plan.lines.quads;
    for (const run of plan.lines.runs) {
      ctx.fillStyle = cssColor(run.color);
      for (let i = run.first; i < run.first + run.count; i++) {
        ctx.fillRect(q[4 * i]!, q[4 * i + 1]!, q[4 * i + 2]! - q[4 * i]!, q[4 * i + 3]! - q[4 * i + 1]!);
      }
    }
    this.drawn = true;
    for (const state of CHUNK_STATES) {
      const text = ` ${plan.counts[state]}`;
      const el = this.counts.get(state)!;
      if (el.textContent !== text) el.textContent = text;
    }
    return plan.counts;
  }

  dispose(): void {
    this.canvas.remove();
    this.legend.remove();
  }
}
