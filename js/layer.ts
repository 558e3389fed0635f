/**
 * The tile layer of one view: the tile cache, PNG decoding into textures,
 * the current / fallback plane, and drawing a frame in the order of the
 * level-of-detail plan ({@link planDraw}).
 *
 * Plane fallback: when the plane changes (a slider moved), the plane that
 * was on screen becomes the fallback and stays drawn underneath until tiles
 * of the new plane cover the view. If nothing of the new plane was drawn yet
 * when the plane changes again (fast slider moves), the older fallback is
 * kept, so the canvas never goes blank while stepping through z.
 *
 * Decoding: `createImageBitmap(blob, {colorSpaceConversion: "none",
 * premultiplyAlpha: "none"})`, uploaded unchanged (see renderer.ts).
 *
 * Tile outlines (`show_tiles`): when asked, the drawn tiles' outlines are
 * planned ({@link planOutlines}) in draw order and drawn over the tiles.
 *
 * Failed tiles ({@link FailedTiles}): each failed tile of the current plane
 * at the level in use is drawn over whatever lies under it as diagonal
 * stripes, with the coarser fallback (or the empty image) showing between
 * them, so a failure is never a silent hole.
 */

import { type Camera, type ViewSize, levelExtent, visibleRect, worldToScreen } from "./camera";
import { colormapLUT } from "./colormaps";
import { FailedTiles } from "./failures";
import { chooseLevel, intersects, planDraw } from "./lod";
import { planOutlines } from "./outlines";
import type { LevelInfo, Rect, TileErrorMessage, TileMessage } from "./protocol";
import { type Display, type DrawItem, Renderer } from "./renderer";
import { TileCache } from "./tiles";

/** What one frame drew. */
export interface FrameStats {
  /** Level the camera asks for (-1 without levels or camera). */
  level: number;
  /** Tiles drawn (any plane). */
  drawn: number;
  /** Whether tiles of the current plane at the target level cover the view. */
  complete: boolean;
  /** Failed tiles drawn (hatched). */
  failed: number;
  /** Levels of the tiles drawn, ascending. */
  levels: number[];
}

async function decodePng(png: Uint8Array): Promise<ImageBitmap> {
  const blob = new Blob([png as Uint8Array<ArrayBuffer>], { type: "image/png" });
  return createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
}

/** Clip-space [x0, y0, x1, y1] of a world rectangle. */
function toClip(cam: Camera, size: ViewSize, r: Rect): [number, number, number, number] {
  const [sy0, sx0] = worldToScreen(cam, size, [r[0], r[1]]);
  const [sy1, sx1] = worldToScreen(cam, size, [r[2], r[3]]);
  return [
    (2 * sx0) / size.width - 1,
    1 - (2 * sy0) / size.height,
    (2 * sx1) / size.width - 1,
    1 - (2 * sy1) / size.height,
  ];
}

export class TileLayer {
  private readonly renderer: Renderer;
  readonly cache: TileCache<WebGLTexture>;
  readonly failures = new FailedTiles();
  private plane = "";
  private fallbackPlane: string | null = null;
  /** Tiles of the current plane drawn in the last frame. */
  private planeDrawn = 0;
  private lost = false;
  private disposed = false;

  /**
   * @param onTexture called when a decoded tile is ready to be drawn
   * Throws when WebGL2 is not available.
   */
  constructor(
    canvas: HTMLCanvasElement,
    private readonly onTexture: () => void,
    private readonly warn: (message: string) => void,
  ) {
    this.renderer = new Renderer(canvas);
    this.cache = new TileCache<WebGLTexture>({ release: (tex) => this.renderer.deleteTexture(tex), warn });
  }

  get currentPlane(): string {
    return this.plane;
  }

  /** Switch planes, keeping the one on screen as the fallback (see module docs). */
  setPlane(plane: string): void {
    if (plane === this.plane) return;
    if (this.planeDrawn > 0 || this.fallbackPlane === null) this.fallbackPlane = this.plane;
    this.plane = plane;
    this.planeDrawn = 0;
  }

  setColormap(name: string): void {
    this.renderer.setColormap(colormapLUT(name, this.warn));
  }

  /** Store a tile: decoded asynchronously, then `onTexture()`. */
  receive(m: TileMessage, live: boolean): void {
    this.failures.remove([m.key]);
    const generation = this.cache.begin(
      {
        key: m.key,
        level: m.level,
        chunk: m.chunk,
        plane: m.plane,
        bounds: m.bounds,
        shape: m.shape,
        encoding: m.encoding,
        valueOffset: m.value_offset,
        valueScale: m.value_scale,
      },
      live,
    );
    decodePng(m.png).then(
      (bitmap) => {
        try {
          if (this.disposed || this.lost) {
            this.cache.fail(m.key, generation);
            return;
          }
          if (bitmap.width !== m.shape[1] || bitmap.height !== m.shape[0]) {
            this.warn(
              `tile ${m.key}: PNG is ${bitmap.height}x${bitmap.width}, header says ${m.shape[0]}x${m.shape[1]}`,
            );
          }
          const texture = this.renderer.createTexture(bitmap);
          if (this.cache.finish(m.key, generation, texture)) this.onTexture();
        } finally {
          bitmap.close();
        }
      },
      (err: unknown) => {
        this.warn(`tile ${m.key}: PNG decoding failed: ${String(err)}`);
        this.cache.fail(m.key, generation);
      },
    );
  }

  /** A tile of this view failed: drawn hatched until it arrives or is dropped. */
  fail(m: TileErrorMessage): void {
    this.failures.add({ key: m.key, level: m.level, plane: m.plane, bounds: m.bounds, error: m.error });
    this.onTexture();
  }

  drop(keys: readonly string[]): void {
    this.cache.drop(keys);
    this.failures.remove(keys);
  }

  /** Forget every tile (textures freed) and every failure. */
  clear(): void {
    this.cache.clear();
    this.failures.clear();
    this.fallbackPlane = null;
    this.planeDrawn = 0;
  }

  /** The WebGL context was lost: stop using textures until {@link restore}. */
  lose(): void {
    this.lost = true;
  }

  /** The context is back: recreate GL resources; all tiles are gone. */
  restore(colormap: string): void {
    this.lost = false;
    this.clear();
    this.renderer.init();
    this.setColormap(colormap);
  }

  /**
   * Draw one frame: `size` in CSS px, drawing buffer `size * dpr`; with
   * `outlines`, each drawn tile's outline too. Without camera or levels,
   * only clears.
   */
  draw(
    cam: Camera | null,
    size: ViewSize,
    dpr: number,
    levels: readonly LevelInfo[],
    display: Display,
    outlines = false,
  ): FrameStats {
    const r = this.renderer;
    if (this.lost || this.disposed) return { level: -1, drawn: 0, complete: false, levels: [], failed: 0 };
    r.setSize(size.width * dpr, size.height * dpr);
    const l0 = levels[0];
    if (cam === null || l0 === undefined || size.width <= 0 || size.height <= 0) {
      r.draw([], display, null);
      return { level: -1, drawn: 0, complete: false, levels: [], failed: 0 };
    }
    const level = chooseLevel(levels, cam.scale, dpr);
    const plan = planDraw(
      this.cache.ready(),
      visibleRect(cam, size),
      levels,
      level,
      this.plane,
      this.fallbackPlane,
    );
    if (plan.covered) this.fallbackPlane = null;
    const items: DrawItem[] = [];
    const drawnLevels = new Set<number>();
    let planeDrawn = 0;
    for (const t of plan.tiles) {
      if (t.texture === null) continue;
      drawnLevels.add(t.level);
      if (t.plane === this.plane) planeDrawn++;
      this.cache.touch(t.key);
      items.push({
        texture: t.texture,
        clip: toClip(cam, size, t.bounds),
        shape: t.shape,
        encoding: t.encoding,
        valueOffset: t.valueOffset,
        valueScale: t.valueScale,
      });
    }
    let outlinePlan = null;
    if (outlines) {
      const [w, h] = [this.renderer.canvas.width, this.renderer.canvas.height];
      const toDevice = (p: [number, number]): [number, number] => {
        const [sy, sx] = worldToScreen(cam, size, p);
        return [(sy * h) / size.height, (sx * w) / size.width];
      };
      outlinePlan = planOutlines(
        plan.tiles.filter((t) => t.texture !== null),
        toDevice,
        w,
        h,
      );
    }
    const view = visibleRect(cam, size);
    const hatches = this.failures
      .at(this.plane, level)
      .filter((t) => intersects(t.bounds, view))
      .map((t) => toClip(cam, size, t.bounds));
    r.draw(items, display, toClip(cam, size, levelExtent(l0)), outlinePlan, hatches);
    this.planeDrawn = planeDrawn;
    const drawn = [...drawnLevels].sort((a, b) => a - b);
    return { level, drawn: items.length, complete: plan.complete, levels: drawn, failed: hatches.length };
  }

  /** Free every texture and GL resource. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.clear();
    this.renderer.dispose();
  }
}
