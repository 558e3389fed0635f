/**
 * Two-way binding of the camera to the `center` and `zoom` traits.
 *
 * - Writes are throttled (at most one `save_changes` per
 *   {@link TRAIT_WRITE_MS}, always with the newest camera), so dragging
 *   does not flood the kernel with state updates.
 * - Every value written is remembered (the last 16), and a `change:` event
 *   that carries one of them is an echo of our own write (from `model.set`
 *   itself, or coming back from the kernel late, after the camera moved on):
 *   it is ignored, so the camera never jumps back.
 * - Anything else is a foreign change (Python set `viewer.zoom = 2`, or
 *   another view of the same model moved) and is adopted.
 * - `zoom` 0 means "fit": the view fits and writes the result back.
 */

import { type Camera, type ViewSize, clampScale, fitCamera, scaleFromZoom, zoomFromScale } from "./camera";
import { type LevelInfo, type Vec2, isFiniteNumber, parseVec2 } from "./protocol";

/** Minimum time between two writes of the center / zoom traits. */
export const TRAIT_WRITE_MS = 150;

/** The part of the anywidget model this needs. */
export interface CameraModel {
  get(name: "center" | "zoom"): unknown;
  set(name: "center" | "zoom", value: unknown): void;
  save_changes(): void;
}

export class CameraSync {
  private recent: { center: Vec2; zoom: number }[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  /**
   * @param current the camera to write when a write is due
   * @param level0 level 0 of the image (zoom is relative to its pixel)
   */
  constructor(
    private readonly model: CameraModel,
    private readonly current: () => Camera | null,
    private readonly level0: () => LevelInfo | undefined,
  ) {}

  /**
   * The camera the traits describe for a view of `size`, or null before
   * level 0 and a size are known. With zoom 0 this is the fit, written back
   * at once.
   */
  read(size: ViewSize, limits: [number, number]): Camera | null {
    const l0 = this.level0();
    if (l0 === undefined || size.width <= 0 || size.height <= 0) return null;
    const zoom = this.model.get("zoom");
    const fitted = fitCamera(l0, size);
    if (!isFiniteNumber(zoom) || zoom <= 0) {
      this.schedule(true);
      return fitted;
    }
    const center = parseVec2(this.model.get("center")) ?? fitted.center;
    return { center, scale: clampScale(scaleFromZoom(l0, zoom), limits) };
  }

  /**
   * A `change:center` / `change:zoom` event: the camera to adopt, "fit", or
   * null for an echo of our own write (or an invalid value).
   */
  changed(which: "center" | "zoom", camera: Camera | null): Camera | "fit" | null {
    const l0 = this.level0();
    if (which === "center") {
      const center = parseVec2(this.model.get("center"));
      if (center === null || this.recent.some((w) => w.center[0] === center[0] && w.center[1] === center[1]))
        return null;
      return camera === null ? "fit" : { center, scale: camera.scale };
    }
    const zoom = this.model.get("zoom");
    if (!isFiniteNumber(zoom) || this.recent.some((w) => w.zoom === zoom)) return null;
    if (zoom <= 0 || camera === null || l0 === undefined) return "fit";
    return { center: camera.center, scale: scaleFromZoom(l0, zoom) };
  }

  /** Write the current camera soon (throttled), or at the next tick with `now`. */
  schedule(now = false): void {
    if (now && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.timer ??= setTimeout(() => this.write(), now ? 0 : TRAIT_WRITE_MS);
  }

  /** Write a pending camera now (e.g. before the view goes away). */
  flush(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.write();
  }

  /** Cancel a pending write. */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private write(): void {
    this.timer = null;
    const camera = this.current();
    const l0 = this.level0();
    if (camera === null || l0 === undefined) return;
    const center: Vec2 = [camera.center[0], camera.center[1]];
    const zoom = zoomFromScale(l0, camera.scale);
    this.recent.push({ center, zoom });
    if (this.recent.length > 16) this.recent.shift();
    this.model.set("center", center);
    this.model.set("zoom", zoom);
    this.model.save_changes();
  }
}
