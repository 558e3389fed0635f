/**
 * The layers section of the view's panel (inside the channel panel, below
 * the channels): one row per layer, topmost first, with a visibility box, the
 * name and kind, an opacity slider, an outline box for labels, and buttons
 * that move the layer up or down the stack. Shown only when the view has
 * more than one layer.
 *
 * Every control is a native input (keyboard reachable; keys stay in the
 * view, dom.ts). The section only reports what the user did
 * ({@link LayerActions}); js/layersync.ts applies it and writes the trait.
 */

import type { LayerState } from "./protocol";

/** A change to one layer, as the user made it. */
export type LayerPatch = Partial<Pick<LayerState, "visible" | "opacity" | "outline">>;

export interface LayerActions {
  layer(id: number, patch: LayerPatch): void;
  /** Move layer `id` up (+1: drawn later, over more) or down (-1) the stack. */
  move(id: number, delta: number): void;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, attrs: Record<string, string> = {}) {
  const e = document.createElement(tag);
  e.className = cls;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

export class LayerSection {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private signature = "";

  constructor(private readonly actions: LayerActions) {
    this.el = el("div", "sz-layers");
    const title = el("div", "sz-layers-title");
    title.textContent = "Layers";
    this.list = el("div", "sz-layers-list");
    this.el.append(title, this.list);
    this.el.hidden = true;
  }

  /** Show `layers` (bottom to top); rows are rebuilt only when the set or order changes. */
  update(layers: readonly LayerState[]): void {
    this.el.hidden = layers.length < 2;
    const signature = layers.map((l) => `${l.id}:${l.kind}:${l.name}`).join("|");
    if (signature !== this.signature) {
      this.signature = signature;
      this.list.replaceChildren(...[...layers].reverse().map((l, i) => this.row(l, i, layers.length)));
    }
    for (const layer of layers) {
      const row = this.list.querySelector<HTMLElement>(`[data-layer="${layer.id}"]`);
      if (row === null) continue;
      const visible = row.querySelector<HTMLInputElement>(".sz-layer-visible")!;
      const opacity = row.querySelector<HTMLInputElement>(".sz-layer-opacity")!;
      const outline = row.querySelector<HTMLInputElement>(".sz-layer-outline");
      visible.checked = layer.visible;
      if (document.activeElement !== opacity) opacity.valueAsNumber = layer.opacity;
      if (outline !== null) outline.checked = layer.outline;
    }
  }

  private row(layer: LayerState, index: number, count: number): HTMLElement {
    const row = el("div", "sz-layer", { "data-layer": String(layer.id) });
    const visible = el("input", "sz-layer-visible", { type: "checkbox", "aria-label": `Show ${layer.name}` });
    visible.addEventListener("change", () => this.actions.layer(layer.id, { visible: visible.checked }));
    const name = el("span", "sz-layer-name");
    name.textContent = layer.name;
    name.title = `${layer.name} (${layer.kind})`;
    const kind = el("span", "sz-layer-kind");
    kind.textContent = layer.kind;
    const opacity = el("input", "sz-layer-opacity", {
      type: "range",
      min: "0",
      max: "1",
      step: "0.01",
      "aria-label": `Opacity of ${layer.name}`,
    });
    opacity.addEventListener("input", () => this.actions.layer(layer.id, { opacity: opacity.valueAsNumber }));
    row.append(visible, name, kind, opacity);
    if (layer.kind === "labels") {
      const label = el("label", "sz-layer-outline-label");
      const outline = el("input", "sz-layer-outline", { type: "checkbox", "aria-label": `Outline ${layer.name}` });
      outline.addEventListener("change", () => this.actions.layer(layer.id, { outline: outline.checked }));
      label.append(outline, document.createTextNode("outline"));
      row.append(label);
    }
    const up = el("button", "sz-layer-up", { type: "button", "aria-label": `Move ${layer.name} up` });
    up.textContent = "▲";
    up.disabled = index === 0;
    up.addEventListener("click", () => this.actions.move(layer.id, 1));
    const down = el("button", "sz-layer-down", { type: "button", "aria-label": `Move ${layer.name} down` });
    down.textContent = "▼";
    down.disabled = index === count - 1;
    down.addEventListener("click", () => this.actions.move(layer.id, -1));
    row.append(up, down);
    return row;
  }
}
