/**
 * Level of detail: which level to ask for, and which cached tiles to draw in
 * which order so that the canvas never flashes blank.
 *
 * Level choice (same rule as the kernel's geometry): the coarsest level whose
 * pixel is no larger than one device pixel along both axes
 * (`scale_l <= scale / dpr`); level 0 when even that is too coarse.
 *
 * Draw plan ({@link planDraw}), for the current plane key:
 *
 * - Every cached tile of the current plane that intersects the view is a
 *   candidate, whatever its level. Tiles are drawn in order of decreasing
 *   distance from the target level, coarser before finer on a tie, so the
 *   target level ends on top and the nearest available resolution shows
 *   where it is missing: coarse tiles underneath while fine ones arrive
 *   (zooming in), fine tiles underneath while the coarse one arrives
 *   (zooming out).
 * - Plane changes (moving a slider): tiles of the previous plane (the
 *   "fallback plane") are drawn underneath everything until the tiles of
 *   the current plane cover the whole view; then the fallback plane is
 *   forgotten (the caller clears it when `covered` is true). Tiles of any
 *   other plane are never drawn.
 * - A tile that is completely hidden by one later-drawn level is culled.
 *   Coverage is checked one (plane, level) group at a time on the chunk
 *   grid of that level, so it is conservative: a tile hidden only by a mix
 *   of levels is still drawn (harmless, it is painted over).
 *
 * Pure functions: no DOM, no WebGL.
 */

import { levelExtent } from "./camera";
import type { LevelInfo, Rect, TilePlace, Vec2 } from "./protocol";

/**
 * Relative tolerance when comparing a level's pixel to a device pixel (as
 * `_LEVEL_RTOL` in simplezarr/viewer/geometry.py), so that a scale that is
 * a level's pixel size up to rounding selects that level on both sides.
 */
export const LEVEL_RTOL = 1e-6;

/** What planning needs to know about a cached tile. */
export type PlannedTile = Pick<TilePlace, "key" | "level" | "chunk" | "plane" | "bounds">;

/**
 * Coarsest level whose pixel is <= one device pixel on both axes.
 *
 * @param scale world units per CSS pixel
 * @param dpr device pixels per CSS pixel
 */
export function chooseLevel(levels: readonly LevelInfo[], scale: number, dpr: number): number {
  const device = (scale / Math.max(dpr, 1e-6)) * (1 + LEVEL_RTOL);
  for (let l = levels.length - 1; l > 0; l--) {
    const s = levels[l]!.scale;
    if (s[0] <= device && s[1] <= device) return l;
  }
  return 0;
}

export function intersects(a: Rect, b: Rect): boolean {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

/** Intersection of two rectangles, or null when they do not overlap. */
export function intersection(a: Rect, b: Rect): Rect | null {
  const r: Rect = [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])];
  return r[0] < r[2] && r[1] < r[3] ? r : null;
}

/**
 * Chunk indices [iy0, iy1, ix0, ix1] (inclusive) of `level` that intersect
 * `rect`, or null when the rectangle misses the level's image. Edges that
 * only touch a chunk do not count.
 */
export function chunkRange(level: LevelInfo, rect: Rect): [number, number, number, number] | null {
  const ext = levelExtent(level);
  const r = intersection(rect, ext);
  if (r === null) return null;
  const ch = level.chunk[0] * level.scale[0];
  const cw = level.chunk[1] * level.scale[1];
  const ny = Math.ceil(level.shape[0] / level.chunk[0]);
  const nx = Math.ceil(level.shape[1] / level.chunk[1]);
  const ey = ch * 1e-9;
  const ex = cw * 1e-9;
  const iy0 = Math.max(0, Math.floor((r[0] - ext[0] + ey) / ch));
  const iy1 = Math.min(ny - 1, Math.ceil((r[2] - ext[0] - ey) / ch) - 1);
  const ix0 = Math.max(0, Math.floor((r[1] - ext[1] + ex) / cw));
  const ix1 = Math.min(nx - 1, Math.ceil((r[3] - ext[1] - ex) / cw) - 1);
  if (iy1 < iy0 || ix1 < ix0) return null;
  return [iy0, iy1, ix0, ix1];
}

/** Tiles of one plane and level, indexed by chunk. */
interface Group<T extends PlannedTile> {
  plane: string;
  level: number;
  rank: number;
  tiles: T[];
  chunks: Set<string>;
}

const chunkId = (iy: number, ix: number): string => `${iy},${ix}`;

/**
 * Whether the tiles of `group` cover `rect` (within the level's image).
 *
 * The part of `rect` outside the level's image needs no tile and counts as
 * covered. Without level metadata nothing counts as covered.
 */
function groupCovers<T extends PlannedTile>(
  group: Group<T>,
  levels: readonly LevelInfo[],
  rect: Rect,
): boolean {
  const info = levels[group.level];
  if (info === undefined) return false;
  const range = chunkRange(info, rect);
  if (range === null) return true;
  const [iy0, iy1, ix0, ix1] = range;
  if ((iy1 - iy0 + 1) * (ix1 - ix0 + 1) > group.chunks.size) return false;
  for (let iy = iy0; iy <= iy1; iy++) {
    for (let ix = ix0; ix <= ix1; ix++) if (!group.chunks.has(chunkId(iy, ix))) return false;
  }
  return true;
}

/** Sort rank: draw ascending; far from the target first, coarser first on ties. */
export function drawRank(level: number, target: number): number {
  const d = level - target;
  return -2 * Math.abs(d) + (d < 0 ? 1 : 0);
}

export interface DrawPlan<T extends PlannedTile> {
  /** Tiles to draw, in order (first drawn first, i.e. underneath). */
  tiles: T[];
  /** Whether tiles of the current plane alone cover the view. */
  covered: boolean;
  /** Whether tiles of the current plane at the target level cover the view: nothing left to arrive. */
  complete: boolean;
}

/**
 * Which tiles to draw, bottom to top (see the module docstring).
 *
 * @param tiles decoded cached tiles (any plane, any level)
 * @param view visible world rectangle
 * @param target level the camera asks for ({@link chooseLevel})
 * @param plane current plane key
 * @param fallbackPlane previous plane key to draw underneath, or null
 */
export function planDraw<T extends PlannedTile>(
  tiles: Iterable<T>,
  view: Rect,
  levels: readonly LevelInfo[],
  target: number,
  plane: string,
  fallbackPlane: string | null,
): DrawPlan<T> {
  const current = new Map<number, Group<T>>();
  const fallback = new Map<number, Group<T>>();
  for (const t of tiles) {
    const isCurrent = t.plane === plane;
    if (!isCurrent && (fallbackPlane === null || t.plane !== fallbackPlane)) continue;
    if (!intersects(t.bounds, view)) continue;
    const groups = isCurrent ? current : fallback;
    let g = groups.get(t.level);
    if (g === undefined) {
      g = { plane: t.plane, level: t.level, rank: drawRank(t.level, target), tiles: [], chunks: new Set() };
      groups.set(t.level, g);
    }
    g.tiles.push(t);
    g.chunks.add(chunkId(t.chunk[0], t.chunk[1]));
  }

  const byRank = (a: Group<T>, b: Group<T>): number => a.rank - b.rank || b.level - a.level;
  const cur = [...current.values()].sort(byRank);
  let covered = levels.length > 0 && cur.some((g) => groupCovers(g, levels, view));
  if (levels.length > 0 && levels[0] !== undefined && intersection(view, levelExtent(levels[0])) === null) {
    covered = true;
  }
  const outside =
    levels[0] !== undefined && intersection(view, levelExtent(levels[0])) === null;
  const targetGroup = current.get(target);
  const complete = outside || (targetGroup !== undefined && groupCovers(targetGroup, levels, view));
  const order = covered ? cur : [...[...fallback.values()].sort(byRank), ...cur];

  const out: T[] = [];
  for (let gi = 0; gi < order.length; gi++) {
    const g = order[gi]!;
    const later = order.slice(gi + 1);
    for (const t of g.tiles) {
      const region = intersection(t.bounds, view);
      if (region === null) continue;
      if (later.some((h) => groupCovers(h, levels, region))) continue;
      out.push(t);
    }
  }
  return { tiles: out, covered, complete };
}
