/**
 * Pointer, wheel and keyboard input on the canvas, turned into camera intents.
 *
 * - Drag (mouse, touch, pen; pointer capture) pans; two pointers pinch-zoom
 *   about their midpoint and pan with it.
 * - Wheel zooms about the cursor (non-passive listener + preventDefault, so
 *   the notebook does not scroll instead).
 * - Double-click zooms in 2x about the point (Shift: out).
 * - A press that `grab` accepts (the crosshair) carries it with `drag`
 *   instead of panning; a press released where it started (within
 *   {@link CLICK_SLOP} px, one pointer) is also a `click`.
 * - Keys (the canvas is focusable): `0` fit, arrows pan (Shift: more),
 *   `+`/`=` and `-` zoom about the centre, `[`/`]` or PageDown/PageUp step
 *   a slider (the one last moved by hand, else z; see `stepTarget`), `t`
 *   shows / hides the tile outlines.
 *
 * Positions are [y, x] CSS pixels relative to the canvas.
 * {@link attachInteraction} returns a function that removes every listener.
 */

import type { Vec2 } from "./protocol";

export interface InteractionHandlers {
  /** Move the content by (dy, dx) CSS pixels. */
  pan(dy: number, dx: number): void;
  /** Zoom by factor (> 1 = in) keeping `anchor` fixed. */
  zoom(factor: number, anchor: Vec2): void;
  fit(): void;
  /** Step the first slider by delta. */
  step(delta: number): void;
  /** Show / hide the tile outlines. */
  toggleTiles(): void;
  /** Cursor moved to `at` (or left the canvas: null). */
  hover(at: Vec2 | null): void;
  /** A press at `at`: return true to carry something (then `drag`, not pan). */
  grab?(at: Vec2): boolean;
  /** The grabbed thing follows the pointer to `at`. */
  drag?(at: Vec2): void;
  /** A press released where it started. */
  click?(at: Vec2): void;
}

/** A press that moved less than this (CSS px) before release is a click. */
export const CLICK_SLOP = 4;

/** Zoom per wheel pixel (exp(-delta * k)). */
const WHEEL_ZOOM = 0.002;
/** Trackpad pinch arrives as ctrl+wheel with small deltas: zoom faster. */
const PINCH_WHEEL_ZOOM = 0.01;
const KEY_ZOOM = 1.5;

export function wheelFactor(deltaY: number, deltaMode: number, ctrlKey: boolean, pageHeight: number): number {
  const pixels = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * pageHeight : deltaY;
  const k = ctrlKey ? PINCH_WHEEL_ZOOM : WHEEL_ZOOM;
  // Clamp so that one notch of a coarse wheel never jumps more than 2x.
  return Math.exp(Math.max(-Math.LN2, Math.min(Math.LN2, -pixels * k)));
}

export function attachInteraction(canvas: HTMLCanvasElement, h: InteractionHandlers): () => void {
  const pointers = new Map<number, Vec2>();
  /** Where the single pointer went down, and whether it carries a grabbed thing. */
  let press: { at: Vec2; grabbed: boolean; moved: boolean } | null = null;
  const local = (e: { clientX: number; clientY: number }): Vec2 => {
    const r = canvas.getBoundingClientRect();
    return [e.clientY - r.top, e.clientX - r.left];
  };
  const pair = (): [Vec2, Vec2] | null => {
    const it = pointers.values();
    const a = it.next().value;
    const b = it.next().value;
    return a !== undefined && b !== undefined ? [a, b] : null;
  };

  const onDown = (e: PointerEvent): void => {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    canvas.focus({ preventScroll: true });
    try {
      canvas.setPointerCapture(e.pointerId);
    } catch {
      // The pointer may already be gone; dragging still works without capture.
    }
    const at = local(e);
    pointers.set(e.pointerId, at);
    press = pointers.size === 1 ? { at, grabbed: h.grab?.(at) === true, moved: false } : null;
    canvas.classList.add("sz-dragging");
    e.preventDefault();
  };

  const onMove = (e: PointerEvent): void => {
    const at = local(e);
    h.hover(at);
    const prev = pointers.get(e.pointerId);
    if (prev === undefined) return;
    const before = pair();
    pointers.set(e.pointerId, at);
    if (pointers.size === 1) {
      if (press !== null && Math.hypot(at[0] - press.at[0], at[1] - press.at[1]) > CLICK_SLOP) press.moved = true;
      if (press?.grabbed === true) h.drag?.(at);
      else h.pan(at[0] - prev[0], at[1] - prev[1]);
      return;
    }
    const after = pair();
    if (before === null || after === null) return;
    const mid = (p: [Vec2, Vec2]): Vec2 => [(p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2];
    const dist = (p: [Vec2, Vec2]): number => Math.hypot(p[0][0] - p[1][0], p[0][1] - p[1][1]);
    const m0 = mid(before);
    const m1 = mid(after);
    h.pan(m1[0] - m0[0], m1[1] - m0[1]);
    const d0 = dist(before);
    const d1 = dist(after);
    if (d0 > 0 && d1 > 0) h.zoom(d1 / d0, m1);
  };

  const onUp = (e: PointerEvent): void => {
    if (press !== null && pointers.size === 1 && pointers.has(e.pointerId) && !press.moved && e.type === "pointerup") {
      h.click?.(local(e));
    }
    if (pointers.size <= 1) press = null;
    pointers.delete(e.pointerId);
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    if (pointers.size === 0) canvas.classList.remove("sz-dragging");
  };

  const onLeave = (): void => {
    if (pointers.size === 0) h.hover(null);
  };

  const onWheel = (e: WheelEvent): void => {
    e.preventDefault();
    if (e.deltaY === 0) return;
    h.zoom(wheelFactor(e.deltaY, e.deltaMode, e.ctrlKey, canvas.clientHeight), local(e));
  };

  const onDblClick = (e: MouseEvent): void => {
    e.preventDefault();
    h.zoom(e.shiftKey ? 0.5 : 2, local(e));
  };

  const onKey = (e: KeyboardEvent): void => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const center: Vec2 = [canvas.clientHeight / 2, canvas.clientWidth / 2];
    const stepY = canvas.clientHeight * (e.shiftKey ? 0.5 : 0.1);
    const stepX = canvas.clientWidth * (e.shiftKey ? 0.5 : 0.1);
    switch (e.key) {
      case "0":
        h.fit();
        break;
      case "ArrowUp":
        h.pan(stepY, 0);
        break;
      case "ArrowDown":
        h.pan(-stepY, 0);
        break;
      case "ArrowLeft":
        h.pan(0, stepX);
        break;
      case "ArrowRight":
        h.pan(0, -stepX);
        break;
      case "+":
      case "=":
        h.zoom(KEY_ZOOM, center);
        break;
      case "-":
      case "_":
        h.zoom(1 / KEY_ZOOM, center);
        break;
      case "]":
      case "PageUp":
        h.step(1);
        break;
      case "[":
      case "PageDown":
        h.step(-1);
        break;
      case "t":
      case "T":
        h.toggleTiles();
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  };

  const listeners: [string, EventListener, AddEventListenerOptions?][] = [
    ["pointerdown", onDown as EventListener],
    ["pointermove", onMove as EventListener],
    ["pointerup", onUp as EventListener],
    ["pointercancel", onUp as EventListener],
    ["pointerleave", onLeave as EventListener],
    ["wheel", onWheel as EventListener, { passive: false }],
    ["dblclick", onDblClick as EventListener],
    ["keydown", onKey as EventListener],
  ];
  for (const [type, fn, opts] of listeners) canvas.addEventListener(type, fn, opts);
  return () => {
    for (const [type, fn, opts] of listeners) canvas.removeEventListener(type, fn, opts);
    pointers.clear();
    press = null;
  };
}
