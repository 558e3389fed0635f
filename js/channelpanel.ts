/**
 * The channel panel below the canvas: collapsible ("Channels" toggle), one
 * row per channel with a visibility box, a colour swatch (the browser's
 * colour picker), the name, a contrast window (two range inputs over the
 * channel's data range, its histogram drawn beneath) and an "auto" button
 * (the 0.5%-99.5% window of the histogram). For a single channel (or in
 * single mode) a colormap menu, gamma and invert; with several channels, a
 * composite / single switch.
 *
 * Every control is a native input, so it is reachable and usable by
 * keyboard; keys stay in the view (dom.ts). The panel only reports what the
 * user did ({@link PanelActions}); the view applies it, redraws, and writes
 * the traits.
 */

import { windowFromHistogram } from "./channels";
import type { ChannelMode } from "./channels";
import { NAMED_COLORMAPS } from "./colormaps";
import type { ChannelState } from "./protocol";

/** A change to one channel, as the user made it. */
export type ChannelPatch = Partial<Pick<ChannelState, "color" | "contrast_limits" | "gamma" | "visible">>;

export interface PanelActions {
  channel(index: number, patch: ChannelPatch): void;
  mode(mode: ChannelMode): void;
  colormap(name: string): void;
  invert(on: boolean): void;
  /** The user opened or closed the panel. */
  toggled(open: boolean): void;
}

/** What the panel shows. */
export interface PanelState {
  channels: readonly ChannelState[];
  mode: ChannelMode;
  current: number;
  colormap: string;
  invert: boolean;
}

/** Steps of the contrast sliders across a channel's range. */
const STEPS = 1000;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, attrs: Record<string, string> = {}) {
  const e = document.createElement(tag);
  e.className = cls;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function format(v: number): string {
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : v.toPrecision(4);
}

interface Row {
  visible: HTMLInputElement;
  color: HTMLInputElement;
  name: HTMLElement;
  lo: HTMLInputElement;
  hi: HTMLInputElement;
  window: HTMLElement;
  histogram: HTMLCanvasElement;
  histogramKey: string;
}

export class ChannelPanel {
  readonly el: HTMLElement;
  private readonly toggle: HTMLButtonElement;
  private readonly body: HTMLElement;
  private readonly modeSelect: HTMLSelectElement;
  private readonly single: HTMLElement;
  private readonly colormapSelect: HTMLSelectElement;
  private readonly gamma: HTMLInputElement;
  private readonly invertBox: HTMLInputElement;
  private rows: Row[] = [];
  private signature = "";
  private state: PanelState | null = null;

  constructor(private readonly actions: PanelActions) {
    this.el = el("div", "sz-channels");
    this.toggle = el("button", "sz-channels-toggle", { type: "button", "aria-expanded": "false" });
    this.toggle.textContent = "Channels";
    this.body = el("div", "sz-channels-body");
    this.body.hidden = true;
    this.toggle.addEventListener("click", () => {
      this.setOpen(!this.open);
      this.actions.toggled(this.open);
    });

    this.modeSelect = el("select", "sz-channel-mode", { "aria-label": "Channel mode" });
    for (const [value, text] of [
      ["composite", "all channels, added"],
      ["single", "one channel"],
    ] as const) {
      const o = el("option", "", { value });
      o.textContent = text;
      this.modeSelect.append(o);
    }
    this.modeSelect.addEventListener("change", () => this.actions.mode(this.modeSelect.value as ChannelMode));

    this.single = el("div", "sz-channel-single");
    this.colormapSelect = el("select", "sz-colormap", { "aria-label": "Colormap" });
    for (const name of NAMED_COLORMAPS) {
      const o = el("option", "", { value: name });
      o.textContent = name;
      this.colormapSelect.append(o);
    }
    this.colormapSelect.addEventListener("change", () => this.actions.colormap(this.colormapSelect.value));
    this.gamma = el("input", "sz-gamma", {
      type: "range",
      min: "-1",
      max: "1",
      step: "0.01",
      "aria-label": "Gamma (log10)",
    });
    this.gamma.addEventListener("input", () => {
      const s = this.state;
      if (s !== null) this.actions.channel(s.current, { gamma: 10 ** this.gamma.valueAsNumber });
    });
    this.invertBox = el("input", "sz-invert", { type: "checkbox", "aria-label": "Invert" });
    this.invertBox.addEventListener("change", () => this.actions.invert(this.invertBox.checked));
    const gammaLabel = el("label", "sz-channel-label");
    gammaLabel.append("gamma ", this.gamma);
    const invertLabel = el("label", "sz-channel-label");
    invertLabel.append(this.invertBox, " invert");
    this.single.append(this.colormapSelect, gammaLabel, invertLabel);
    this.body.append(this.modeSelect, this.single);
    this.el.append(this.toggle, this.body);
  }

  /** Another section of the panel (the layers), below the channels. */
  addSection(section: HTMLElement): void {
    this.body.append(section);
  }

  get open(): boolean {
    return this.body.hidden !== true;
  }

  setOpen(open: boolean): void {
    this.body.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
  }

  /** Show `s`; rows are rebuilt only when the channels' names or count change. */
  update(s: PanelState): void {
    this.state = s;
    const signature = JSON.stringify(s.channels.map((c) => [c.name, c.range]));
    if (signature !== this.signature) {
      this.signature = signature;
      this.build(s.channels);
    }
    const several = s.channels.length > 1;
    this.modeSelect.hidden = !several;
    this.modeSelect.value = s.mode;
    const single = !several || s.mode === "single";
    this.single.hidden = !single;
    if (this.colormapSelect.value !== s.colormap) this.colormapSelect.value = s.colormap;
    const current = s.channels[s.current];
    if (current !== undefined) this.gamma.value = String(Math.log10(current.gamma));
    this.invertBox.checked = s.invert;
    s.channels.forEach((c, i) => this.fill(this.rows[i]!, c, single ? i === s.current : true, !single));
  }

  private build(channels: readonly ChannelState[]): void {
    for (const r of this.rows) r.visible.closest(".sz-channel")?.remove();
    this.rows = channels.map((c, i) => {
      const row = el("div", "sz-channel", { "data-channel": String(i) });
      const visible = el("input", "sz-channel-visible", { type: "checkbox", "aria-label": `Show ${c.name}` });
      visible.addEventListener("change", () => this.actions.channel(i, { visible: visible.checked }));
      const color = el("input", "sz-channel-color", { type: "color", "aria-label": `Colour of ${c.name}` });
      color.addEventListener("input", () => this.actions.channel(i, { color: color.value }));
      const name = el("span", "sz-channel-name");
      const win = el("span", "sz-channel-window");
      const auto = el("button", "sz-button sz-channel-auto", { type: "button", title: "Auto contrast (0.5-99.5%)" });
      auto.textContent = "auto";
      auto.addEventListener("click", () => {
        const ch = this.state?.channels[i];
        const w = ch === undefined ? null : windowFromHistogram(ch.histogram, ch.range);
        if (w !== null) this.actions.channel(i, { contrast_limits: w });
      });
      const sliders = el("div", "sz-channel-contrast");
      const histogram = el("canvas", "sz-channel-histogram", { width: "256", height: "24" });
      const lo = el("input", "sz-channel-lo", { type: "range", min: "0", max: String(STEPS), step: "1" });
      const hi = el("input", "sz-channel-hi", { type: "range", min: "0", max: String(STEPS), step: "1" });
      lo.setAttribute("aria-label", `${c.name} contrast minimum`);
      hi.setAttribute("aria-label", `${c.name} contrast maximum`);
      const onContrast = (): void => {
        const ch = this.state?.channels[i];
        if (ch === undefined) return;
        const [a, b] = ch.range;
        const at = (input: HTMLInputElement): number => a + ((b - a) * input.valueAsNumber) / STEPS;
        let l = at(lo);
        let h = at(hi);
        if (l > h) [l, h] = [h, l];
        this.actions.channel(i, { contrast_limits: [l, h] });
      };
      lo.addEventListener("input", onContrast);
      hi.addEventListener("input", onContrast);
      sliders.append(histogram, lo, hi);
      const head = el("div", "sz-channel-head");
      head.append(visible, color, name, win, auto);
      row.append(head, sliders);
      this.body.insertBefore(row, this.single);
      return { visible, color, name, lo, hi, window: win, histogram, histogramKey: "" };
    });
  }

  private fill(r: Row, c: ChannelState, shown: boolean, composite: boolean): void {
    r.visible.checked = c.visible;
    r.visible.hidden = !composite;
    r.color.hidden = !composite;
    if (r.color.value !== c.color) r.color.value = c.color;
    r.name.textContent = c.name;
    r.name.style.color = composite ? c.color : "";
    r.window.textContent = `${format(c.contrast_limits[0])} – ${format(c.contrast_limits[1])}`;
    const [a, b] = c.range;
    const step = (v: number): string => String(Math.round(((v - a) / (b - a || 1)) * STEPS));
    if (document.activeElement !== r.lo) r.lo.value = step(c.contrast_limits[0]);
    if (document.activeElement !== r.hi) r.hi.value = step(c.contrast_limits[1]);
    const row = r.visible.closest<HTMLElement>(".sz-channel");
    if (row !== null) {
      row.hidden = !shown; // single mode: only the channel shown
      row.toggleAttribute("data-dim", composite && !c.visible);
    }
    const key = JSON.stringify([c.histogram, c.color, composite]);
    if (key !== r.histogramKey) {
      r.histogramKey = key;
      drawHistogram(r.histogram, c.histogram, composite ? c.color : "#c8c8cc");
    }
  }

  dispose(): void {
    this.el.remove();
  }
}

/** Bars of `counts` (log scale, so faint populations show) across the canvas. */
function drawHistogram(canvas: HTMLCanvasElement, counts: readonly number[], color: string): void {
  const ctx = canvas.getContext("2d");
  if (ctx === null) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (counts.length === 0) return;
  const top = Math.log1p(Math.max(...counts));
  const w = canvas.width / counts.length;
  ctx.fillStyle = color;
  counts.forEach((n, i) => {
    const h = top > 0 ? (Math.log1p(n) / top) * canvas.height : 0;
    ctx.fillRect(i * w, canvas.height - h, Math.max(1, w - 0.5), h);
  });
}
