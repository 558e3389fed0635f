/**
 * The crosshair of orthogonal views: two lines through a world point, which
 * a click moves and a drag near it carries.
 *
 * The `crosshair` trait holds the world point `[y, x]` (or `[]`: no
 * crosshair). {@link crosshairAt} turns it into the screen point the lines
 * are drawn through (`null` when there is none or it is off the view);
 * {@link grabs} says whether a press at a screen point is near enough to the
 * lines to carry them rather than pan. The DOM ({@link Crosshair}) is two
 * 1-px lines over the canvas that let pointer events through.
 */

import { type Camera, type ViewSize, worldToScreen } from "./camera";
import type { Vec2 } from "./protocol";

/** A press within this many CSS pixels of a line carries the crosshair. */
export const GRAB_PX = 6;

/** The world point of a `crosshair` trait value, or null (`[]`, malformed, not finite). */
export function parseCrosshair(value: unknown): Vec2 | null {
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [y, x] = value as unknown[];
  return typeof y === "number" && typeof x === "number" && Number.isFinite(y) && Number.isFinite(x)
    ? [y, x]
    : null;
}

/** Where the lines cross on screen (CSS px), or null when there is no crosshair. */
export function crosshairAt(cam: Camera | null, size: ViewSize, world: Vec2 | null): Vec2 | null {
  if (cam === null || world === null) return null;
  return worldToScreen(cam, size, world);
}

/** Whether a press at `at` is on (near) either line through `cross`. */
export function grabs(cross: Vec2 | null, at: Vec2): boolean {
  if (cross === null) return false;
  return Math.abs(at[0] - cross[0]) <= GRAB_PX || Math.abs(at[1] - cross[1]) <= GRAB_PX;
}

export class Crosshair {
  readonly el: HTMLDivElement;
  private readonly h: HTMLDivElement;
  private readonly v: HTMLDivElement;
  private shown = "";

  constructor() {
    this.el = document.createElement("div");
    this.el.className = "sz-crosshair";
    this.h = document.createElement("div");
    this.h.className = "sz-crosshair-h";
    this.v = document.createElement("div");
    this.v.className = "sz-crosshair-v";
    this.el.append(this.h, this.v);
    this.el.hidden = true;
  }

  /** Draw the lines through screen point `at` of a view of `size` (null hides them). */
  update(at: Vec2 | null, size: ViewSize): void {
    const inside = at !== null && at[0] >= 0 && at[1] >= 0 && at[0] <= size.height && at[1] <= size.width;
    const key = at === null ? "" : `${at[0].toFixed(1)},${at[1].toFixed(1)}`;
    if (key === this.shown) return;
    this.shown = key;
    this.el.hidden = at === null;
    if (at === null) return;
    this.h.style.transform = `translateY(${at[0]}px)`;
    this.v.style.transform = `translateX(${at[1]}px)`;
    this.el.dataset.at = key;
    this.el.dataset.inside = inside ? "1" : "0";
  }

  dispose(): void {
    this.el.remove();
  }
}
