/**
 * The DOM of one view, and its test hooks.
 *
 * {@link buildViewDom} makes the elements every view has and attaches them
 * to the host: the `.simplezarr-viewer` root (with the `<style>` of
 * {@link ./styles}), the stage that holds the canvas, the title and the
 * given overlay and toolbar, and below the stage the slider panel. The
 * canvas keeps its drawing buffer (`preserveDrawingBuffer`, see
 * {@link ./renderer}), so tests can read pixels back.
 *
 * Test hooks are data attributes on the root element, written only through
 * {@link setHooks} with names the {@link Hooks} type checks:
 *
 * - `data-ready` ("1" once ready was sent), `data-view` (view id);
 * - `data-frames` (frames rendered), `data-tiles-drawn` (tiles drawn in the
 *   last frame), `data-tiles-received` (tile messages received, total),
 *   `data-tiles-cached` (decoded tiles held), `data-tiles-pending` and
 *   `data-tiles-failed` (from status);
 * - `data-level` (level in use), `data-plane` (current plane key),
 *   `data-seq` (last viewport seq sent);
 * - `data-camera` (JSON: `center` [y, x], `scale` world units per CSS px,
 *   `size` [h, w] CSS px, as last drawn);
 * - `data-complete` ("1" when tiles of the current plane at the level in use
 *   cover the view); `data-complete-plane` (the plane key of the last frame
 *   drawn complete: a move that waited for it is sent in that same frame, so
 *   `data-plane` may already name the next plane when observers run);
 * - `data-display` (JSON: `lo`, `hi`, `gamma`, `colormap` as last drawn);
 * - `data-show-tiles` ("1" when the last frame drew tile outlines);
 * - `data-failed-drawn` (failed tiles drawn hatched in the last frame);
 * - `data-passes` (JSON: the channels drawn in the last frame, in order);
 * - `data-view-code` (the Python the "Code" button last copied);
 * - `data-protocol-mismatch` ("1" when the kernel speaks another protocol
 *   version: the view shows a message and nothing else);
 * - `data-show-chunks` ("1" when the last frame drew the chunk grid),
 *   `data-chunks-level` (its level) and `data-chunks` (JSON: chunk cells
 *   filled per state, `held`, `cached`, `loading`, `failed`);
 * - `data-show-stats` ("1" while the I/O panel is shown).
 *
 * {@link frameHooks} is the pure part: what one drawn frame says.
 *
 * Keys stay in the view ({@link containKeys}): a key pressed while anything
 * inside the root has focus (canvas, slider, button, panel) never runs the
 * page's shortcuts, so JupyterLab's and Notebook 7's command-mode keys (`d d`
 * deletes a cell, `0 0` restarts the kernel, arrows move between cells) and
 * marimo's do not fire. The events still do their default inside the view
 * (a focused slider moves with the arrows, Tab moves focus on). Escape
 * hands focus back to the page.
 */

import type { Camera, ViewSize } from "./camera";
import type { FrameStats } from "./layer";
import type { Display } from "./renderer";
import { CSS } from "./styles";

/** The test hooks, by `dataset` name (`tilesDrawn` is `data-tiles-drawn`). */
export type HookName =
  | "ready"
  | "view"
  | "frames"
  | "tilesDrawn"
  | "tilesReceived"
  | "tilesCached"
  | "tilesPending"
  | "tilesFailed"
  | "failedDrawn"
  | "passes"
  | "layers"
  | "protocolMismatch"
  | "level"
  | "plane"
  | "seq"
  | "camera"
  | "complete"
  | "completePlane"
  | "display"
  | "showTiles"
  | "viewCode"
  | "showChunks"
  | "chunksLevel"
  | "chunks"
  | "showStats";

/** Some test hooks and their new values. */
export type Hooks = Partial<Record<HookName, string>>;

/** The hooks' values before the first frame (besides `ready` and `view`). */
export const INITIAL_HOOKS: Hooks = {
  frames: "0",
  tilesDrawn: "0",
  tilesReceived: "0",
  tilesCached: "0",
  tilesPending: "0",
  tilesFailed: "0",
  level: "0",
  seq: "0",
  plane: "",
  showTiles: "0",
};

/** Write test hooks on a view's root element. */
export function setHooks(root: HTMLElement, hooks: Hooks): void {
  Object.assign(root.dataset, hooks);
}

/** What one drawn frame tells the hooks. */
export interface FrameReport {
  stats: FrameStats;
  display: Display;
  colormap: string;
  /** Whether tile outlines were drawn. */
  outlines: boolean;
  camera: Camera | null;
  size: ViewSize;
  /** Decoded tiles held after the frame. */
  tilesCached: number;
}

/**
 * The hooks of one drawn frame; `level` only when the frame had a level and
 * `camera` only when it had a camera (the previous values stay).
 */
export function frameHooks(f: FrameReport): Hooks {
  const hooks: Hooks = {
    showTiles: f.outlines ? "1" : "0",
    display: JSON.stringify({ ...f.display, colormap: f.colormap }),
  };
  if (f.stats.level >= 0) hooks.level = String(f.stats.level);
  hooks.tilesDrawn = String(f.stats.drawn);
  hooks.complete = f.stats.complete ? "1" : "0";
  hooks.failedDrawn = String(f.stats.failed);
  hooks.tilesCached = String(f.tilesCached);
  if (f.camera !== null) {
    // For tests: which world point is under which CSS pixel of the canvas.
    hooks.camera = JSON.stringify({
      center: f.camera.center,
      scale: f.camera.scale,
      size: [f.size.height, f.size.width],
    });
  }
  return hooks;
}

/** The elements of one view that the view itself uses. */
export interface ViewDom {
  root: HTMLDivElement;
  stage: HTMLDivElement;
  canvas: HTMLCanvasElement;
  title: HTMLDivElement;
}

/** Parts made elsewhere that go into the view's DOM. */
export interface ViewParts {
  overlay: HTMLElement;
  scaleBar: HTMLElement;
  crosshair: HTMLElement;
  code: HTMLElement;
  minimap: HTMLElement;
  toolbar: HTMLElement;
  sliders: HTMLElement;
  channels: HTMLElement;
  /** The chunk grid's canvas (over the image) and legend. */
  chunkGrid: HTMLElement;
  chunkLegend: HTMLElement;
  /** The I/O panel. */
  ioPanel: HTMLElement;
}

function div(className: string): HTMLDivElement {
  const el = document.createElement("div");
  el.className = className;
  return el;
}

/** Make a view's elements around `parts` and append the root to `host`. */
export function buildViewDom(host: HTMLElement, parts: ViewParts): ViewDom {
  const root = div("simplezarr-viewer");
  const stage = div("sz-stage");
  const canvas = document.createElement("canvas");
  const title = div("sz-title");
  containKeys(root);
  const style = document.createElement("style");
  style.textContent = CSS;
  canvas.className = "sz-canvas";
  canvas.tabIndex = 0;
  canvas.setAttribute("aria-label", "Image view: drag to pan, wheel to zoom, 0 to fit");
  stage.append(
    canvas,
    parts.chunkGrid,
    parts.crosshair,
    title,
    parts.chunkLegend,
    parts.overlay,
    parts.scaleBar,
    parts.toolbar,
    parts.minimap,
    parts.ioPanel,
    parts.code,
  );
  root.append(style, stage, parts.sliders, parts.channels);
  host.appendChild(root);
  return { root, stage, canvas, title };
}

/** Key events that {@link containKeys} keeps inside the view. */
export const CONTAINED_KEY_EVENTS = ["keydown", "keyup", "keypress"] as const;

/**
 * Keep key events inside `root`, for both ways a host page listens:
 *
 * - bubbling listeners (JupyterLab 4, marimo): key events are stopped when
 *   they bubble out of `root` (listeners inside it have run by then);
 * - capturing listeners that run before ours (Notebook 7's Lumino shell):
 *   Lumino matches a shortcut by walking up from the event's target and stops
 *   at an element marked `data-lm-suppress-shortcuts`. On the root alone that
 *   mark comes too late (the focused canvas itself matches
 *   `.jp-mod-commandMode :focus`), so every element that takes focus inside
 *   the view is marked when it does.
 *
 * Escape also blurs the focused element, to leave the view by keyboard.
 */
export function containKeys(root: HTMLElement): void {
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.addEventListener("focusin", (e) => {
    if (e.target instanceof HTMLElement) e.target.setAttribute("data-lm-suppress-shortcuts", "true");
  });
  const stop = (e: Event): void => {
    if (e.type === "keydown" && (e as KeyboardEvent).key === "Escape") {
      // In a shadow root (marimo) the document's activeElement is the host.
      const scope = root.getRootNode() as Document | ShadowRoot;
      const active = scope.activeElement ?? null;
      if (active instanceof HTMLElement && root.contains(active)) active.blur();
    }
    e.stopPropagation();
  };
  for (const type of CONTAINED_KEY_EVENTS) root.addEventListener(type, stop);
}

/** Show a message over the stage (the view cannot draw). */
export function showMessage(stage: HTMLElement, text: string): void {
  const message = div("sz-message");
  message.textContent = text;
  stage.appendChild(message);
}
