/**
 * Camera math: world <-> screen transforms, fit, zoom about a point, pan.
 *
 * The camera is `center` [y, x] in world units and `scale` in world units per
 * CSS pixel (isotropic: world units are the same along both axes, so an image
 * with anisotropic pixels is shown with its true aspect). Screen coordinates
 * are CSS pixels from the top-left corner of the canvas, y down, like image
 * rows:
 *
 *     screen = (world - center) / scale + size / 2
 *
 * The `zoom` trait is CSS pixels per level-0 pixel along x:
 * `zoom = levels[0].scale[1] / scale`; 0 means "fit the image".
 *
 * Pure functions: no DOM, no WebGL.
 */

import type { LevelInfo, Rect, Vec2 } from "./protocol";

export interface Camera {
  /** [y, x] world units at the middle of the canvas. */
  center: Vec2;
  /** World units per CSS pixel (> 0). */
  scale: number;
}

/** Canvas size in CSS pixels. */
export interface ViewSize {
  height: number;
  width: number;
}

export function worldToScreen(cam: Camera, size: ViewSize, world: Vec2): Vec2 {
  return [
    (world[0] - cam.center[0]) / cam.scale + size.height / 2,
    (world[1] - cam.center[1]) / cam.scale + size.width / 2,
  ];
}

export function screenToWorld(cam: Camera, size: ViewSize, screen: Vec2): Vec2 {
  return [
    cam.center[0] + (screen[0] - size.height / 2) * cam.scale,
    cam.center[1] + (screen[1] - size.width / 2) * cam.scale,
  ];
}

/** The world rectangle [y0, x0, y1, x1] the canvas shows. */
export function visibleRect(cam: Camera, size: ViewSize): Rect {
  const hy = (size.height / 2) * cam.scale;
  const hx = (size.width / 2) * cam.scale;
  return [cam.center[0] - hy, cam.center[1] - hx, cam.center[0] + hy, cam.center[1] + hx];
}

/** World rectangle covered by a level's pixels (outer edges). */
export function levelExtent(level: LevelInfo): Rect {
  const [sy, sx] = level.scale;
  const [oy, ox] = level.offset;
  return [oy - 0.5 * sy, ox - 0.5 * sx, oy + (level.shape[0] - 0.5) * sy, ox + (level.shape[1] - 0.5) * sx];
}

/**
 * The camera that shows all of `level` (normally level 0) in `size`.
 *
 * The image is centred and touches the canvas on its tighter axis.
 */
export function fitCamera(level: LevelInfo, size: ViewSize): Camera {
  const [y0, x0, y1, x1] = levelExtent(level);
  const h = Math.max(size.height, 1);
  const w = Math.max(size.width, 1);
  return { center: [(y0 + y1) / 2, (x0 + x1) / 2], scale: Math.max((y1 - y0) / h, (x1 - x0) / w) };
}

/**
 * Keep the camera's centre on the image (level 0's outer pixel edges), so
 * some of the image is always in view, whatever was asked (as map viewers
 * do). The kernel clamps `Viewer.center` the same way.
 */
export function clampCenter(center: Vec2, level0: LevelInfo): Vec2 {
  const [y0, x0, y1, x1] = levelExtent(level0);
  return [Math.min(Math.max(center[0], y0), y1), Math.min(Math.max(center[1], x0), x1)];
}

/** Allowed scale range: from 64 CSS px per finest pixel to 8x the fit. */
export function scaleLimits(levels: readonly LevelInfo[], size: ViewSize): [number, number] {
  const l0 = levels[0];
  if (l0 === undefined) return [1e-12, 1e12];
  const finest = Math.min(l0.scale[0], l0.scale[1]);
  const fit = fitCamera(l0, size).scale;
  return [finest / 64, Math.max(fit * 8, finest / 64)];
}

export function clampScale(scale: number, limits: [number, number]): number {
  return Math.min(Math.max(scale, limits[0]), limits[1]);
}

/**
 * Zoom by `factor` (> 1 zooms in) keeping the world point under `anchor`
 * (screen CSS px) fixed. The new scale is clamped to `limits`.
 */
export function zoomAbout(
  cam: Camera,
  size: ViewSize,
  factor: number,
  anchor: Vec2,
  limits: [number, number] = [0, Infinity],
): Camera {
  const scale = clampScale(cam.scale / factor, limits);
  const world = screenToWorld(cam, size, anchor);
  return {
    scale,
    center: [
      world[0] - (anchor[0] - size.height / 2) * scale,
      world[1] - (anchor[1] - size.width / 2) * scale,
    ],
  };
}

/** Move the content by (dy, dx) CSS pixels (a drag moves the image with the pointer). */
export function panBy(cam: Camera, dy: number, dx: number): Camera {
  return { scale: cam.scale, center: [cam.center[0] - dy * cam.scale, cam.center[1] - dx * cam.scale] };
}

/** The `zoom` trait for a scale: CSS pixels per level-0 pixel along x. */
export function zoomFromScale(level0: LevelInfo, scale: number): number {
  return level0.scale[1] / scale;
}

/** The scale for a `zoom` trait value (> 0). */
export function scaleFromZoom(level0: LevelInfo, zoom: number): number {
  return level0.scale[1] / zoom;
}

/** Level-0 pixel index [iy, ix] (nearest pixel centre) of a world point. */
export function pixelIndex(level0: LevelInfo, world: Vec2): Vec2 {
  return [
    Math.round((world[0] - level0.offset[0]) / level0.scale[0]),
    Math.round((world[1] - level0.offset[1]) / level0.scale[1]),
  ];
}

/** Whether two cameras are the same within a relative tolerance. */
export function sameCamera(a: Camera, b: Camera, rel = 1e-9): boolean {
  const tol = rel * Math.max(a.scale, b.scale);
  return (
    Math.abs(a.scale - b.scale) <= rel * Math.max(a.scale, b.scale) &&
    Math.abs(a.center[0] - b.center[0]) <= tol &&
    Math.abs(a.center[1] - b.center[1]) <= tol
  );
}
