/**
 * The minimap: a small overview of the whole image in a corner of the view,
 * with the part on screen outlined; a click or drag in it moves the camera.
 *
 * The picture is the kernel's (the private `_overview` trait: a PNG of the
 * whole image at its coarsest level, drawn in the kernel with the current
 * display, and the world rectangle it covers), so the minimap needs no tile
 * of its own and shows the image even before the first tile arrives.
 * {@link parseOverview} reads the trait; {@link viewRect} and
 * {@link minimapToWorld} are the pure geometry (tested); {@link Minimap} is
 * the DOM: an `<img>` and a rectangle, hidden when the `show_minimap` trait
 * is false, when there is no picture, or when the whole image is on screen.
 */

import { type Camera, type ViewSize, visibleRect } from "./camera";
import type { Vec2 } from "./protocol";

/** Longest side of the minimap, CSS px. */
export const MINIMAP_PX = 160;

export interface Overview {
  /** `data:image/png;base64,...` */
  src: string;
  /** World rectangle [y0, x0, y1, x1] the picture covers (outer pixel edges). */
  bounds: [number, number, number, number];
}

/** The `_overview` trait, or null when missing or malformed. */
export function parseOverview(v: unknown): Overview | null {
  if (typeof v !== "object" || v === null) return null;
  const { png, bounds } = v as { png?: unknown; bounds?: unknown };
  if (typeof png !== "string" || png.length === 0 || !Array.isArray(bounds) || bounds.length !== 4) return null;
  if (!bounds.every((b) => typeof b === "number" && Number.isFinite(b))) return null;
  const [y0, x0, y1, x1] = bounds as number[];
  if (!(y1! > y0! && x1! > x0!)) return null;
  return { src: `data:image/png;base64,${png}`, bounds: [y0!, x0!, y1!, x1!] };
}

/** The minimap's size in CSS px [h, w]: the image's aspect, longest side {@link MINIMAP_PX}. */
export function minimapSize(o: Overview): Vec2 {
  const h = o.bounds[2] - o.bounds[0];
  const w = o.bounds[3] - o.bounds[1];
  const k = MINIMAP_PX / Math.max(h, w);
  return [Math.max(8, h * k), Math.max(8, w * k)];
}

/** The view's rectangle in minimap px [top, left, height, width], clipped to the minimap. */
export function viewRect(o: Overview, cam: Camera, size: ViewSize): [number, number, number, number] {
  const [mh, mw] = minimapSize(o);
  const [y0, x0, y1, x1] = o.bounds;
  const [ry0, rx0, ry1, rx1] = visibleRect(cam, size);
  const sy = mh / (y1 - y0);
  const sx = mw / (x1 - x0);
  const top = Math.max(0, (ry0 - y0) * sy);
  const left = Math.max(0, (rx0 - x0) * sx);
  const bottom = Math.min(mh, (ry1 - y0) * sy);
  const right = Math.min(mw, (rx1 - x0) * sx);
  return [top, left, Math.max(0, bottom - top), Math.max(0, right - left)];
}

/** Whether the view shows the whole image (then the minimap says nothing). */
export function showsAll(o: Overview, cam: Camera, size: ViewSize): boolean {
  const [ry0, rx0, ry1, rx1] = visibleRect(cam, size);
  const [y0, x0, y1, x1] = o.bounds;
  return ry0 <= y0 && rx0 <= x0 && ry1 >= y1 && rx1 >= x1;
}

/** The world point under minimap px `at` [y, x]. */
export function minimapToWorld(o: Overview, at: Vec2): Vec2 {
  const [mh, mw] = minimapSize(o);
  const [y0, x0, y1, x1] = o.bounds;
  return [y0 + (at[0] / mh) * (y1 - y0), x0 + (at[1] / mw) * (x1 - x0)];
}

export class Minimap {
  readonly el: HTMLDivElement;
  private readonly img: HTMLImageElement;
  private readonly rect: HTMLDivElement;
  private overview: Overview | null = null;
  private dragging: number | null = null;
  private readonly cleanups: (() => void)[] = [];

  /** `moveTo(world)`: the user clicked or dragged the minimap to centre the view there. */
  constructor(moveTo: (world: Vec2) => void) {
    this.el = document.createElement("div");
    this.el.className = "sz-minimap";
    this.el.hidden = true;
    this.img = document.createElement("img");
    this.img.alt = "";
    this.img.draggable = false;
    this.rect = document.createElement("div");
    this.rect.className = "sz-minimap-view";
    this.el.append(this.img, this.rect);
    const at = (e: PointerEvent): Vec2 => {
      const r = this.el.getBoundingClientRect();
      return [e.clientY - r.top, e.clientX - r.left];
    };
    const down = (e: PointerEvent): void => {
      if (this.overview === null || (e.pointerType === "mouse" && e.button !== 0)) return;
      e.preventDefault();
      e.stopPropagation();
      this.dragging = e.pointerId;
      try {
        this.el.setPointerCapture(e.pointerId);
      } catch {
        // (the pointer may be gone already)
      }
      moveTo(minimapToWorld(this.overview, at(e)));
    };
    const move = (e: PointerEvent): void => {
      if (this.dragging !== e.pointerId || this.overview === null) return;
      e.stopPropagation();
      moveTo(minimapToWorld(this.overview, at(e)));
    };
    const up = (e: PointerEvent): void => {
      if (this.dragging === e.pointerId) this.dragging = null;
    };
    const handlers: [string, EventListener][] = [
      ["pointerdown", down as EventListener],
      ["pointermove", move as EventListener],
      ["pointerup", up as EventListener],
      ["pointercancel", up as EventListener],
      ["wheel", ((e: Event) => e.stopPropagation()) as EventListener],
    ];
    for (const [type, fn] of handlers) this.el.addEventListener(type, fn);
    this.cleanups.push(() => {
      for (const [type, fn] of handlers) this.el.removeEventListener(type, fn);
    });
  }

  /** Show `overview` (null: none) with the view of `cam` outlined; `on` false hides it. */
  update(overview: Overview | null, cam: Camera | null, size: ViewSize, on: boolean): void {
    if (overview !== null && overview.src !== this.overview?.src) this.img.src = overview.src;
    this.overview = overview;
    const visible = on && overview !== null && cam !== null && !showsAll(overview, cam, size);
    this.el.hidden = !visible;
    this.el.dataset.shown = visible ? "1" : "0";
    if (!visible || overview === null || cam === null) return;
    const [mh, mw] = minimapSize(overview);
    this.el.style.width = `${mw}px`;
    this.el.style.height = `${mh}px`;
    const [top, left, h, w] = viewRect(overview, cam, size);
    this.rect.style.transform = `translate(${left}px, ${top}px)`;
    this.rect.style.width = `${w}px`;
    this.rect.style.height = `${h}px`;
    this.el.dataset.view = [top, left, h, w].map((v) => v.toFixed(1)).join(",");
  }

  dispose(): void {
    for (const fn of this.cleanups.splice(0)) fn();
    this.el.remove();
  }
}
