/**
 * Two-way binding of the camera to the `center`, `zoom` and `_fit_pending`
 * traits.
 *
 * - Writes are throttled (at most one `save_changes` per
 *   {@link TRAIT_WRITE_MS}, always with the newest camera), so dragging
 *   does not flood the kernel with state updates.
 * - A `change:` event that fires *while this view writes* (`model.set` fires
 *   its events synchronously) is our own and ignored. Every other change is
 *   foreign and adopted: Python set `viewer.center`, or another view of the
 *   same model moved. Whether the value was seen before does not matter, so
 *   a camera saved in Python and set again always moves the view. (Late
 *   echoes of our own writes never reach here: the Jupyter widget manager
 *   drops echoes of messages that a newer one superseded.)
 * - An adopted camera is not written back unless keeping it in range (the
 *   view's zoom limits) changed it: an unchanged write-back is only an echo,
 *   and one that lands after a newer kernel value undoes it.
 * - `zoom` 0 means "fit": the view fits and writes the result back.
 * - `_fit_pending` true means the kernel's `center` / `zoom` are a
 *   provisional fit to a default size (so that a cell can print true values
 *   before any view exists): the first view to render fits to its real size
 *   and writes the result back with `_fit_pending` false.
 */

import { type Camera, type ViewSize, clampCenter, clampScale, fitCamera, scaleFromZoom, zoomFromScale } from "./camera";
import { type LevelInfo, type Vec2, isFiniteNumber, parseVec2 } from "./protocol";

/** Minimum time between two writes of the center / zoom traits. */
export const TRAIT_WRITE_MS = 150;

/** The camera traits. */
export type CameraTrait = "center" | "zoom" | "_fit_pending";

/** The part of the anywidget model this needs. */
export interface CameraModel {
  get(name: CameraTrait): unknown;
  set(name: CameraTrait, value: unknown): void;
  save_changes(): void;
}

export class CameraSync {
  /** True while this view writes the traits: the change events are ours. */
  private writing = false;
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
   * level 0 and a size are known. With zoom 0 or a provisional fit this is
   * the fit to `size`, written back at once. The centre is kept on the image.
   */
  read(size: ViewSize, limits: [number, number]): Camera | null {
    const l0 = this.level0();
    if (l0 === undefined || size.width <= 0 || size.height <= 0) return null;
    const zoom = this.model.get("zoom");
    const fitted = fitCamera(l0, size);
    if (!isFiniteNumber(zoom) || zoom <= 0 || this.model.get("_fit_pending") === true) {
      this.schedule(true);
      return fitted;
    }
    const center = parseVec2(this.model.get("center")) ?? fitted.center;
    return { center: clampCenter(center, l0), scale: clampScale(scaleFromZoom(l0, zoom), limits) };
  }

  /**
   * A `change:center` / `change:zoom` event: the camera to adopt, "fit", or
   * null for our own write (or an invalid value).
   */
  changed(which: "center" | "zoom", camera: Camera | null): Camera | "fit" | null {
    if (this.writing) return null;
    const l0 = this.level0();
    if (which === "center") {
      const center = parseVec2(this.model.get("center"));
      if (center === null) return null;
      if (camera === null || l0 === undefined) return "fit";
      return { center: clampCenter(center, l0), scale: camera.scale };
    }
    const zoom = this.model.get("zoom");
    if (!isFiniteNumber(zoom)) return null;
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
    this.writing = true;
    try {
      this.model.set("center", center);
      this.model.set("zoom", zoomFromScale(l0, camera.scale));
      if (this.model.get("_fit_pending") === true) this.model.set("_fit_pending", false);
    } finally {
      this.writing = false;
    }
    this.model.save_changes();
  }
}
