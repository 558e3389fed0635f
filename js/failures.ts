/**
 * Tiles the kernel could not make for this view (`tile_error` messages).
 *
 * Failure is shown, never a silent hole: the layer draws each failed tile of
 * the current plane at the level in use as a hatched rectangle, and the
 * overlay says how many failed and why ({@link FailedTiles.summary}).
 *
 * An entry goes away when a `tile` arrives under its key (a retry worked),
 * when a `drop` names it (the view no longer wants it) or when the view
 * restarts. At most {@link MAX_FAILED} are kept (the kernel wants at most
 * that many tiles per view at once); beyond it the oldest entry goes.
 *
 * Pure: no DOM, no WebGL.
 */

import type { TileErrorMessage } from "./protocol";

/** Most failed tiles remembered per view. */
export const MAX_FAILED = 4096;

export type FailedTile = Pick<TileErrorMessage, "layer" | "key" | "level" | "plane" | "channel" | "bounds" | "error">;

export class FailedTiles {
  private readonly tiles = new Map<string, FailedTile>();

  get size(): number {
    return this.tiles.size;
  }

  add(t: FailedTile): void {
    this.tiles.delete(t.key); // re-inserted as the newest
    this.tiles.set(t.key, t);
    if (this.tiles.size > MAX_FAILED) {
      const oldest = this.tiles.keys().next().value;
      if (oldest !== undefined) this.tiles.delete(oldest);
    }
  }

  /** Forget `keys`; true when any was known. */
  remove(keys: Iterable<string>): boolean {
    let any = false;
    for (const k of keys) any = this.tiles.delete(k) || any;
    return any;
  }

  clear(): void {
    this.tiles.clear();
  }

  /** The failed tiles of `plane` at `level`. */
  at(plane: string, level: number): FailedTile[] {
    return [...this.tiles.values()].filter((t) => t.plane === plane && t.level === level);
  }

  /** e.g. "2 tiles failed: read timed out after 30 s", or "" when none did. */
  summary(): string {
    const n = this.tiles.size;
    if (n === 0) return "";
    const counts = new Map<string, number>();
    for (const t of this.tiles.values()) counts.set(t.error, (counts.get(t.error) ?? 0) + 1);
    const [reason] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const more = counts.size > 1 ? ` (+${counts.size - 1} other reason${counts.size > 2 ? "s" : ""})` : "";
    return `${n} tile${n === 1 ? "" : "s"} failed: ${reason}${more}`;
  }
}
