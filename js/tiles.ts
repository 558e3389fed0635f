/**
 * The front end's tile cache: decoded tiles (GPU textures) by tile key.
 *
 * Lifetime of an entry:
 *
 * 1. `begin()` when a `tile` message arrives: the entry exists but has no
 *    texture yet (the PNG is being decoded). A tile re-sent under a key the
 *    cache already holds keeps showing its old texture until the new one is
 *    ready.
 * 2. `finish()` when decoding is done: the texture is stored. A texture that
 *    arrives for an entry that was evicted or superseded meanwhile is
 *    released at once (through `release`).
 * 3. `drop()` when the kernel says this view no longer needs the key: the
 *    entry is NOT deleted, only marked evictable. It stays available as a
 *    fallback (e.g. the coarse tile under a zoom, the previous plane under
 *    a slider move) until the budget needs its room.
 *
 * "Live" entries are those the kernel sent to *this* view and has not
 * dropped: the kernel believes the view holds them and will not send them
 * again, so they are never evicted by the normal budget. Tiles sent for
 * another view of the same model (every view receives every message) are
 * stored as not live: usable, evictable.
 *
 * Budget: at most `maxTiles` entries and `maxBytes` texture bytes
 * (RGBA8: 4 bytes per pixel). When over budget, non-live entries are evicted
 * least recently used first (`touch()` on every draw keeps drawn tiles
 * recent). Live entries are bounded by the kernel (it drops what leaves the
 * view); if they alone exceed twice the budget the least recently used of
 * them are evicted too, with a warning, rather than exhausting GPU memory.
 *
 * Generic in the texture type so that it can be tested without WebGL.
 */

import type { TileHeader, Vec2 } from "./protocol";

/** A tile's header, as needed for drawing (the `tile` message's, see protocol.ts). */
export type TileInfo = TileHeader;

export interface CachedTile<T> extends TileInfo {
  /** Null while the first decode of this key is in flight. */
  texture: T | null;
  /** Texture bytes (0 without texture). */
  bytes: number;
  /** Sent to this view and not dropped. */
  live: boolean;
  /** Generation of the newest decode started for this entry. */
  generation: number;
}

export interface TileCacheOptions<T> {
  maxTiles?: number;
  maxBytes?: number;
  /** Frees a texture (e.g. gl.deleteTexture). */
  release: (texture: T) => void;
  warn?: (message: string) => void;
}

export const DEFAULT_MAX_TILES = 2048;
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** RGBA8 texture bytes of a tile of `shape`. */
export function textureBytes(shape: Vec2): number {
  return 4 * shape[0] * shape[1];
}

export class TileCache<T> {
  readonly maxTiles: number;
  readonly maxBytes: number;
  private readonly release: (texture: T) => void;
  private readonly warn: (message: string) => void;
  /** Map order is recency order: oldest first. */
  private readonly entries = new Map<string, CachedTile<T>>();
  private nextGeneration = 1;
  private totalBytes = 0;
  private warned = false;

  constructor(options: TileCacheOptions<T>) {
    this.maxTiles = options.maxTiles ?? DEFAULT_MAX_TILES;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.release = options.release;
    this.warn = options.warn ?? ((m) => console.warn(`simplezarr: ${m}`));
  }

  /** Number of entries (decoded or decoding). */
  get size(): number {
    return this.entries.size;
  }

  /** Texture bytes held. */
  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string): CachedTile<T> | undefined {
    return this.entries.get(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Entries with a texture, oldest first. */
  *ready(): IterableIterator<CachedTile<T>> {
    for (const e of this.entries.values()) if (e.texture !== null) yield e;
  }

  /** Number of live entries. */
  get liveCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.live) n++;
    return n;
  }

  /**
   * A tile arrived: create or refresh its entry; returns the generation to
   * pass to {@link finish} or {@link fail}.
   */
  begin(info: TileInfo, live: boolean): number {
    const generation = this.nextGeneration++;
    const old = this.entries.get(info.key);
    if (old !== undefined) {
      this.entries.delete(info.key);
      // Keep the old texture on screen until the new decode is done.
      const entry: CachedTile<T> = {
        ...info,
        texture: old.texture,
        bytes: old.bytes,
        live: live || old.live,
        generation,
      };
      this.entries.set(info.key, entry);
    } else {
      this.entries.set(info.key, { ...info, texture: null, bytes: 0, live, generation });
    }
    this.enforceBudget();
    return generation;
  }

  /**
   * Decoding finished. Stores the texture and returns true, or releases it
   * and returns false when the entry is gone or a newer decode superseded it.
   */
  finish(key: string, generation: number, texture: T): boolean {
    const e = this.entries.get(key);
    if (e === undefined || e.generation !== generation) {
      this.release(texture);
      return false;
    }
    if (e.texture !== null) this.release(e.texture);
    this.totalBytes += textureBytes(e.shape) - e.bytes;
    e.texture = texture;
    e.bytes = textureBytes(e.shape);
    this.enforceBudget();
    return true;
  }

  /** Decoding failed: forget an entry that never got a texture. */
  fail(key: string, generation: number): void {
    const e = this.entries.get(key);
    if (e !== undefined && e.generation === generation && e.texture === null) this.entries.delete(key);
  }

  /** The kernel no longer needs these keys for this view: make them evictable. */
  drop(keys: Iterable<string>): void {
    for (const key of keys) {
      const e = this.entries.get(key);
      if (e !== undefined) e.live = false;
    }
    this.enforceBudget();
  }

  /** Mark an entry as just used (drawn). */
  touch(key: string): void {
    const e = this.entries.get(key);
    if (e !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, e);
    }
  }

  /** Remove one entry now, releasing its texture. */
  delete(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.totalBytes -= e.bytes;
    if (e.texture !== null) this.release(e.texture);
    return true;
  }

  /** Remove everything, releasing all textures. */
  clear(): void {
    for (const key of [...this.entries.keys()]) this.delete(key);
    this.totalBytes = 0;
  }

  private overBudget(factor: number): boolean {
    return this.entries.size > factor * this.maxTiles || this.totalBytes > factor * this.maxBytes;
  }

  /** Evict non-live LRU entries while over budget; live ones past 2x the budget. */
  private enforceBudget(): void {
    if (!this.overBudget(1)) return;
    for (const [key, e] of [...this.entries]) {
      if (!this.overBudget(1)) return;
      if (!e.live) this.delete(key);
    }
    if (!this.overBudget(2)) return;
    if (!this.warned) {
      this.warned = true;
      this.warn(
        `TileCache: live tiles exceed twice the budget (${this.entries.size} tiles, ` +
          `${this.totalBytes} bytes; budget ${this.maxTiles} tiles, ${this.maxBytes} bytes): evicting live tiles`,
      );
    }
    for (const key of [...this.entries.keys()]) {
      if (!this.overBudget(1)) return;
      this.delete(key);
    }
  }
}
