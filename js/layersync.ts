/**
 * One view's layers, bound to the `layers` trait, and the panel's layers section.
 *
 * Reads `layers` (bottom to top, {@link parseLayers}); gives the frame the
 * layers to draw ({@link LayerSync.drawLayers}: the base image's passes come
 * from the channel state, an added image's from its own channels, always
 * added), the kernel the layers to send ({@link LayerSync.wanted}), and the
 * probe overlay the layers' names. What the user changes in the section is
 * applied at once (a redraw) and written back to the trait, throttled like
 * the channels ({@link TRAIT_WRITE_MS}); showing a layer changes
 * {@link LayerSync.wanted}, so the next `viewport` asks for its tiles; hiding
 * one drops them. Our own writes' `change:` events are ignored.
 */

import { TRAIT_WRITE_MS } from "./camerasync";
import type { DrawLayer, Pass } from "./layer";
import { LayerSection } from "./layerpanel";
import { type LayerChannels, type LayerState, type LevelInfo, parseLayers } from "./protocol";

/** The part of the anywidget model this needs. */
export interface LayerModel {
  get(name: "layers"): unknown;
  set(name: "layers", value: unknown): void;
  save_changes(): void;
}

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1, 7), 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

export class LayerSync {
  readonly section: LayerSection;
  private layers: LayerState[] = [];
  private writing = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly model: LayerModel,
    private readonly changed: () => void,
  ) {
    this.section = new LayerSection({
      layer: (id, patch) => this.edit(id, patch),
      move: (id, delta) => this.move(id, delta),
    });
    this.read();
  }

  /** The trait changed (not by us): read it again. */
  onTrait(): void {
    if (this.writing) return;
    this.read();
    this.changed();
  }

  private read(): void {
    this.layers = parseLayers(this.model.get("layers"));
    this.section.update(this.layers);
  }

  /** The layers, bottom to top (a copy). */
  state(): LayerState[] {
    return [...this.layers];
  }

  /** Whether the base image (layer 0) is shown (true without a `layers` trait). */
  baseVisible(): boolean {
    return this.layers.find((l) => l.id === 0)?.visible ?? true;
  }

  /** The layers other than 0 the view shows, with their channels, for the `viewport` message. */
  wanted(): LayerChannels[] {
    return this.layers
      .filter((l) => l.id !== 0 && l.visible)
      .map((l) => ({
        layer: l.id,
        channels:
          l.kind === "labels" || l.channels.length === 0
            ? [0]
            : l.channels.flatMap((c, i) => (c.visible ? [i] : [])),
      }));
  }

  /**
   * What to draw, bottom to top: the visible layers; the base image with the
   * channel state's `passes` and `composite` and `levels`.
   */
  drawLayers(basePasses: readonly Pass[], baseComposite: boolean, baseLevels: readonly LevelInfo[]): DrawLayer[] {
    const layers = this.layers.length > 0 ? this.layers : null;
    if (layers === null) {
      const base: DrawLayer = {
        id: 0, kind: "image", levels: baseLevels, passes: basePasses, composite: baseComposite,
        opacity: 1, outline: false, colors: [],
      }; // prettier-ignore
      return [base];
    }
    return layers
      .filter((l) => l.visible)
      .map((l) => {
        const passes: Pass[] =
          l.id === 0
            ? [...basePasses]
            : l.channels.flatMap((c, i) =>
                c.visible
                  ? [{ channel: i, display: { lo: c.contrast_limits[0], hi: c.contrast_limits[1], gamma: c.gamma, color: rgb(c.color) } }]
                  : [],
              );
        return {
          id: l.id,
          kind: l.kind === "labels" ? "labels" : "image",
          levels: l.id === 0 ? baseLevels : l.levels,
          passes,
          composite: l.id === 0 ? baseComposite : true,
          opacity: l.opacity,
          outline: l.outline,
          colors: l.colors,
        };
      });
  }

  /** The name of layer `id`. */
  name(id: number): string {
    return this.layers.find((l) => l.id === id)?.name ?? `layer ${id}`;
  }

  private edit(id: number, patch: Partial<Pick<LayerState, "visible" | "opacity" | "outline">>): void {
    this.layers = this.layers.map((l) => (l.id === id ? { ...l, ...patch } : l));
    this.section.update(this.layers);
    this.changed();
    this.scheduleWrite();
  }

  private move(id: number, delta: number): void {
    const i = this.layers.findIndex((l) => l.id === id);
    const j = i + delta;
    if (i < 0 || j < 0 || j >= this.layers.length) return;
    const next = [...this.layers];
    [next[i], next[j]] = [next[j]!, next[i]!];
    this.layers = next;
    this.section.update(this.layers);
    this.changed();
    this.scheduleWrite();
  }

  private scheduleWrite(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.write();
    }, TRAIT_WRITE_MS);
  }

  private write(): void {
    this.writing = true;
    try {
      const current = this.model.get("layers");
      const byId = new Map<unknown, Record<string, unknown>>();
      if (Array.isArray(current)) for (const e of current) if (e !== null && typeof e === "object") byId.set((e as { id: unknown }).id, e as Record<string, unknown>);
      const value = this.layers.map((l) => ({
        ...(byId.get(l.id) ?? {}),
        id: l.id,
        visible: l.visible,
        opacity: l.opacity,
        outline: l.outline,
      }));
      this.model.set("layers", value);
      this.model.save_changes();
    } finally {
      this.writing = false;
    }
  }

  /** Write what is pending now and stop the timer. */
  dispose(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      this.write();
    }
  }
}
