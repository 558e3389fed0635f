/**
 * DOM controls around the canvas: the toolbar (zoom out / in, fit, the
 * "Tiles" toggle of the tile outlines, the "Chunks" toggle of the chunk grid,
 * the "I/O" toggle of the I/O panel, and "Code", which copies the view as
 * Python) and one labelled range input per
 * entry of the `sliders` trait.
 *
 * The sliders show the level-0 index on their axis, e.g.
 * "z 12 / 63 · 6.0 µm"; moving one calls `onChange(name, index)`, and the
 * widget writes the `position` trait. Axes of length 1 get no visible slider.
 */

import { sliderLabel } from "./format";
import { type SliderInfo, sliderIndices } from "./protocol";

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  attrs: Record<string, string> = {},
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.className = className;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

export interface ToolbarActions {
  fit(): void;
  zoomIn(): void;
  zoomOut(): void;
  /** The "Tiles" toggle was clicked. */
  toggleTiles(): void;
  /** The "Code" button: copy the view as Python code. */
  copyCode(): void;
  /** The "Chunks" toggle (chunk grid, `show_chunks`) was clicked. */
  toggleChunks(): void;
  /** The "I/O" toggle (I/O panel, `show_stats`) was clicked. */
  toggleStats(): void;
}

export interface Toolbar {
  el: HTMLElement;
  /** Show the "Tiles" toggle pressed or not (`aria-pressed`). */
  setTiles(on: boolean): void;
  /** Show the "Chunks" toggle pressed or not. */
  setChunks(on: boolean): void;
  /** Show the "I/O" toggle pressed or not. */
  setStats(on: boolean): void;
  dispose(): void;
}

/** A small floating toolbar. */
export function createToolbar(actions: ToolbarActions): Toolbar {
  const el = element("div", "sz-toolbar", { role: "toolbar", "aria-label": "View" });
  const buttons: [HTMLButtonElement, (e: Event) => void][] = [];
  const add = (text: string, title: string, action: () => void, cls = ""): HTMLButtonElement => {
    const b = element("button", `sz-button ${cls}`.trim(), { type: "button", title, "aria-label": title });
    b.textContent = text;
    const onClick = (e: Event): void => {
      e.preventDefault();
      action();
    };
    b.addEventListener("click", onClick);
    buttons.push([b, onClick]);
    el.appendChild(b);
    return b;
  };
  add("−", "Zoom out (-)", () => actions.zoomOut());
  add("+", "Zoom in (+)", () => actions.zoomIn());
  add("Fit", "Fit the image (0)", () => actions.fit(), "sz-fit");
  const tiles = add("Tiles", "Show tile outlines (t)", () => actions.toggleTiles(), "sz-tiles");
  const chunks = add("Chunks", "Show the chunk grid and chunk states", () => actions.toggleChunks(), "sz-chunks");
  const stats = add("I/O", "Show the I/O and cache panel", () => actions.toggleStats(), "sz-stats");
  const pressed = (b: HTMLButtonElement, on: boolean): void => b.setAttribute("aria-pressed", on ? "true" : "false");
  for (const b of [tiles, chunks, stats]) pressed(b, false);
  add("Code", "Copy this view as Python code", () => actions.copyCode(), "sz-copy-code");
  return {
    el,
    setTiles: (on) => pressed(tiles, on),
    setChunks: (on) => pressed(chunks, on),
    setStats: (on) => pressed(stats, on),
    dispose: () => {
      for (const [b, fn] of buttons) b.removeEventListener("click", fn);
      el.remove();
    },
  };
}

interface SliderRow {
  info: SliderInfo;
  input: HTMLInputElement;
  label: HTMLElement;
  onInput: () => void;
}

/** The slider panel below the canvas. */
export class SliderPanel {
  readonly el: HTMLElement;
  private rows: SliderRow[] = [];
  private signature = "";

  constructor(private readonly onChange: (name: string, index: number) => void) {
    this.el = element("div", "sz-sliders");
  }

  /** Show `sliders` at `position`; rebuilds only when the axes change. */
  update(sliders: readonly SliderInfo[], position: Record<string, number>): void {
    const signature = JSON.stringify(sliders);
    if (signature !== this.signature) {
      this.signature = signature;
      this.build(sliders);
    }
    const indices = sliderIndices(sliders, position);
    this.rows.forEach((row, i) => {
      const index = indices[i] ?? 0;
      if (row.input.valueAsNumber !== index) row.input.value = String(index);
      const text = sliderLabel(row.info, index);
      if (row.label.textContent !== text) row.label.textContent = text;
    });
  }

  /** Index of slider `i`, or undefined. */
  value(i: number): number | undefined {
    return this.rows[i]?.input.valueAsNumber;
  }

  /** The slider infos shown. */
  get sliders(): SliderInfo[] {
    return this.rows.map((r) => r.info);
  }

  private build(sliders: readonly SliderInfo[]): void {
    this.clear();
    // An axis of length 1 (a label image's `c`, a single time point) has nothing to browse.
    this.el.hidden = sliders.every((s) => s.size <= 1);
    for (const info of sliders) {
      const row = element("div", "sz-slider");
      row.hidden = info.size <= 1;
      const id = `sz-${Math.random().toString(36).slice(2)}`;
      const label = element("label", "sz-slider-label", { for: id });
      const input = element("input", "sz-slider-input", {
        type: "range",
        id,
        min: "0",
        max: String(info.size - 1),
        step: "1",
        "aria-label": `${info.name} index`,
      });
      input.disabled = info.size <= 1;
      const onInput = (): void => this.onChange(info.name, input.valueAsNumber);
      input.addEventListener("input", onInput);
      row.append(label, input);
      this.el.appendChild(row);
      this.rows.push({ info, input, label, onInput });
    }
  }

  private clear(): void {
    for (const row of this.rows) row.input.removeEventListener("input", row.onInput);
    this.rows = [];
    this.el.replaceChildren();
  }

  dispose(): void {
    this.clear();
    this.el.remove();
  }
}
