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
 * Channels: a frame is drawn in passes, one per channel shown ({@link Pass}):
 * one straight through the colormap for a single channel, or one per visible
 * channel, added (see renderer.ts), for a composite. Each pass plans its own
 * channel's tiles with the same level-of-detail rules.
 *
 * Tile outlines (`show_tiles`): when asked, the drawn tiles' outlines are
 * planned ({@link planOutlines}) in draw order and drawn over the tiles.
 *
 * Layers ({@link DrawLayer}): a frame draws the view's visible layers bottom
 * to top, each with its own levels (world units) and its own level choice.
 * The bottom image layer at full opacity goes straight to the canvas, as
 * above; an image layer over others is drawn into a transparent framebuffer
 * and blended over (renderer.ts `beginOver`); a label layer's exact ids are
 * coloured per screen pixel by js/labels.ts. Every layer's tiles carry the
 * base image's plane key, so the plane fallback works for all of them.
 *
 * Failed tiles ({@link FailedTiles}): each failed tile of the current plane
 * at the level in use is drawn over whatever lies under it as diagonal
 * stripes, with the coarser fallback (or the empty image) showing between
 * them, so a failure is never a silent hole.
 */

import { type Camera, type ViewSize, levelExtent, visibleRect, worldToScreen } from "./camera";
import { colormapLUT } from "./colormaps";
import { FailedTiles } from "./failures";
import { chooseLevel, type DrawPlan, intersects, planDraw } from "./lod";
import { planOutlines } from "./outlines";
import { type LabelItem, LabelRenderer } from "./labels";
import type { LayerKind, LevelInfo, Rect, TileErrorMessage, TileMessage } from "./protocol";
import { type Display, type DrawItem, Renderer } from "./renderer";
import { type CachedTile, TileCache } from "./tiles";

/** One channel's pass: which channel, and how its values are shown. */
export interface Pass {
  channel: number;
  display: Display;
}

/** One layer to draw, and how. */
export interface DrawLayer {
  id: number;
  kind: LayerKind;
  /** The layer's levels, in world units. */
  levels: readonly LevelInfo[];
  /** Image layers: one pass per channel shown. */
  passes: readonly Pass[];
  /** Image layers: channels added (else one pass through the colormap). */
  composite: boolean;
  opacity: number;
  /** Labels: boundaries only. */
  outline: boolean;
  /** Labels: `image-label` colours. */
  colors: readonly [number, string][];
}

/** What one frame drew. */
export interface FrameStats {
  /** Level the camera asks for (-1 without levels or camera). */
  level: number;
  /** Tiles drawn (any plane). */
  drawn: number;
  /** Whether tiles of the current plane at the target level cover the view (every pass). */
  complete: boolean;
  /** Failed tiles drawn (hatched). */
  failed: number;
  /** Levels of the tiles drawn, ascending. */
  levels: number[];
}

/** One layer's plan: its level and, per pass (labels: one), what to draw. */
interface LayerPlan {
  layer: DrawLayer;
  /** Its place in the frame's layers, bottom first. */
  index: number;
  level: number;
  passes: DrawPlan<CachedTile<WebGLTexture>>[];
}

interface LayersPlan {
  layers: LayerPlan[];
  /** Tiles of the current plane cover the view (the fallback plane can go). */
  covered: boolean;
  complete: boolean;
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
  private labels: LabelRenderer | null = null;

  /**
   * @param onTexture called when a decoded tile is ready to be drawn (with its
   *   plane key), or when a tile failed (with null)
   * Throws when WebGL2 is not available.
   */
  constructor(
    canvas: HTMLCanvasElement,
    private readonly onTexture: (plane: string | null) => void,
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

  setColormap(name: string, invert = false): void {
    this.renderer.setColormap(colormapLUT(name, this.warn, invert));
  }

  /** Store a tile: decoded asynchronously, then `onTexture()`. */
  receive(m: TileMessage, live: boolean): void {
    this.failures.remove([m.key]);
    const { type: _type, view: _view, seq: _seq, png: _png, ...header } = m;
    const generation = this.cache.begin(header, live);
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
          if (this.cache.finish(m.key, generation, texture)) this.onTexture(m.plane);
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
    this.failures.add({
      layer: m.layer,
      key: m.key,
      level: m.level,
      plane: m.plane,
      channel: m.channel,
      bounds: m.bounds,
      error: m.error,
    });
    this.onTexture(null);
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
  restore(colormap: string, invert = false): void {
    this.lost = false;
    this.clear();
    this.renderer.init();
    this.labels = null; // its GL objects died with the context
    this.setColormap(colormap, invert);
  }

  /**
   * Draw one frame: `size` in CSS px, drawing buffer `size * dpr`; the
   * `layers` bottom to top (the first is the base image: its extent is
   * filled, black for a composite); with `outlines`, each drawn tile's
   * outline too. Without camera or levels, only clears. The stats' level is
   * the base layer's.
   */
  draw(
    cam: Camera | null,
    size: ViewSize,
    dpr: number,
    layers: readonly DrawLayer[],
    baseLevels: readonly LevelInfo[],
    outlines = false,
  ): FrameStats {
    const r = this.renderer;
    const none: FrameStats = { level: -1, drawn: 0, complete: false, levels: [], failed: 0 };
    if (this.lost || this.disposed) return none;
    r.setSize(size.width * dpr, size.height * dpr);
    const l0 = baseLevels[0];
    if (cam === null || l0 === undefined || size.width <= 0 || size.height <= 0) {
      r.beginFrame(null);
      return none;
    }
    const baseLevel = chooseLevel(baseLevels, cam.scale, dpr);
    const view = visibleRect(cam, size);
    const bottom = layers[0];
    r.beginFrame(toClip(cam, size, levelExtent(l0)), bottom?.kind !== "labels" && bottom?.composite === true);
    const drawnLevels = new Set<number>();
    const drawnTiles: CachedTile<WebGLTexture>[] = [];
    let planeDrawn = 0;
    const planned = this.plan(view, cam, dpr, layers);
    let hatches: [number, number, number, number][] = [];
    const take = (tiles: readonly CachedTile<WebGLTexture>[]): CachedTile<WebGLTexture>[] => {
      const out: CachedTile<WebGLTexture>[] = [];
      for (const t of tiles) {
        if (t.texture === null) continue;
        drawnLevels.add(t.level);
        drawnTiles.push(t);
        if (t.plane === this.plane) planeDrawn++;
        this.cache.touch(t.key);
        out.push(t);
      }
      return out;
    };
    for (const { layer, index, level, passes } of planned.layers) {
      if (layer.kind === "labels") {
        const items: LabelItem[] = take(passes[0]?.tiles ?? []).map((t) => ({
          texture: t.texture!,
          clip: toClip(cam, size, t.bounds),
          shape: t.shape,
        }));
        this.labels ??= new LabelRenderer(r.gl);
        const style = { opacity: layer.opacity, outline: layer.outline, thickness: dpr, colors: layer.colors };
        this.labels.draw(layer.id, items, style, r.canvas.width, r.canvas.height);
      } else {
        const over = index > 0 || layer.opacity < 1;
        if (over) r.beginOver();
        layer.passes.forEach((pass, i) => {
          const items: DrawItem[] = take(passes[i]?.tiles ?? []).map((t) => ({
            texture: t.texture!,
            clip: toClip(cam, size, t.bounds),
            shape: t.shape,
            encoding: t.encoding,
            valueOffset: t.value_offset,
            valueScale: t.value_scale,
          }));
          r.drawTiles(items, pass.display);
        });
        if (over) r.endOver(layer.opacity);
      }
      const channels = new Set(layer.kind === "labels" ? [0] : layer.passes.map((p) => p.channel));
      hatches = hatches.concat(
        this.failures
          .at(this.plane, level)
          .filter((t) => t.layer === layer.id && channels.has(t.channel) && intersects(t.bounds, view))
          .map((t) => toClip(cam, size, t.bounds)),
      );
    }
    if (planned.covered) this.fallbackPlane = null;
    r.drawFailed(hatches);
    if (outlines) {
      const [w, h] = [this.renderer.canvas.width, this.renderer.canvas.height];
      const toDevice = (p: [number, number]): [number, number] => {
        const [sy, sx] = worldToScreen(cam, size, p);
        return [(sy * h) / size.height, (sx * w) / size.width];
      };
      r.drawOutlines(planOutlines(drawnTiles, toDevice, w, h));
    }
    this.planeDrawn = planeDrawn;
    const drawn = [...drawnLevels].sort((a, b) => a - b);
    return {
      level: baseLevel,
      drawn: drawnTiles.length,
      complete: planned.complete,
      levels: drawn,
      failed: hatches.length,
    };
  }

  /**
   * Whether a frame drawn now would show the current plane complete (as
   * {@link FrameStats.complete}), without drawing: what the plane hold asks
   * (js/planepacer.ts {@link PlaneHold}).
   */
  complete(cam: Camera | null, size: ViewSize, dpr: number, layers: readonly DrawLayer[]): boolean {
    if (this.lost || this.disposed || cam === null || size.width <= 0 || size.height <= 0) return false;
    return this.plan(visibleRect(cam, size), cam, dpr, layers).complete;
  }

  /** Each layer's level and, per pass (labels: one), the tiles to draw in order; coverage. */
  private plan(view: Rect, cam: Camera, dpr: number, layers: readonly DrawLayer[]): LayersPlan {
    const ready = [...this.cache.ready()];
    let covered = layers.length > 0;
    let complete = layers.length > 0;
    const planned: LayerPlan[] = [];
    layers.forEach((layer, index) => {
      if (layer.levels.length === 0) return;
      const level = chooseLevel(layer.levels, cam.scale, dpr);
      const mine = ready.filter((t) => t.layer === layer.id);
      const channels: (number | null)[] = layer.kind === "labels" ? [null] : layer.passes.map((p) => p.channel);
      const passes = channels.map((channel) => {
        const p = planDraw(
          channel === null ? mine : mine.filter((t) => t.channel === channel),
          view,
          layer.levels,
          level,
          this.plane,
          this.fallbackPlane,
        );
        covered &&= p.covered;
        complete &&= p.complete;
        return p;
      });
      planned.push({ layer, index, level, passes });
    });
    return { layers: planned, covered, complete };
  }

  /** Free every texture and GL resource. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.clear();
    this.labels?.dispose();
    this.labels = null;
    this.renderer.dispose();
  }
}
