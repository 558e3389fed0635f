/**
 * One view's channel state, bound to the traits, and its panel.
 *
 * Reads `channels`, `channel_mode`, `channel_axis`, `colormap`, `invert`,
 * `nan_color`, `show_channels` (and `position` for the channel shown in
 * single mode); gives
 * the frame its passes ({@link ChannelSync.passes}) and the kernel the
 * channels to send ({@link ChannelSync.wanted}).
 *
 * What the user changes in the panel is applied at once (a redraw: colour,
 * contrast and gamma are uniforms, no tile moves), and written back to the
 * traits, throttled like the camera (at most one `save_changes` per
 * {@link TRAIT_WRITE_MS}), so Python sees it. Trait writes carry state only:
 * no custom message is sent and no tile is sent again. Showing a hidden
 * channel changes {@link ChannelSync.wanted}, so the next `viewport` asks for
 * its tiles. Our own writes fire `change:` events while we write; those are
 * ignored (as in camerasync.ts).
 */

import { ChannelPanel, type ChannelPatch } from "./channelpanel";
import { type ChannelMode, type ChannelView, framePasses, isComposite } from "./channels";
import { TRAIT_WRITE_MS } from "./camerasync";
import { isColormap } from "./colormaps";
import type { Pass } from "./layer";
import { type ChannelState, parseChannels, parsePosition } from "./protocol";

export type ChannelTrait =
  | "channels"
  | "channel_mode"
  | "channel_axis"
  | "colormap"
  | "invert"
  | "nan_color"
  | "show_channels";

/** The part of the anywidget model this needs. */
export interface ChannelModel {
  get(name: ChannelTrait | "position"): unknown;
  set(name: ChannelTrait, value: unknown): void;
  save_changes(): void;
}

export class ChannelSync {
  readonly panel: ChannelPanel;
  private channels: ChannelState[] = [];
  private writing = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private askedHistogram = false;

  /**
   * @param changed called after anything that changes the picture (redraw;
   *   `lut` when the colormap or invert changed)
   * @param histogram asks the kernel for histograms
   */
  constructor(
    private readonly model: ChannelModel,
    private readonly changed: (lut: boolean) => void,
    private readonly histogram: () => void,
  ) {
    this.panel = new ChannelPanel({
      channel: (i, patch) => this.edit(i, patch),
      mode: (mode) => this.write("channel_mode", mode),
      colormap: (name) => this.write("colormap", name),
      invert: (on) => this.write("invert", on),
      toggled: (open) => {
        this.write("show_channels", open);
        if (open) this.maybeHistogram();
      },
    });
    this.read();
  }

  /** The view is linked to the kernel: open the panel if asked (it may request histograms). */
  start(): void {
    this.showPanel();
  }

  /** The name of the channel axis ("" without one). */
  get channelAxis(): string {
    const a = this.model.get("channel_axis");
    return typeof a === "string" ? a : "";
  }

  get mode(): ChannelMode {
    return this.model.get("channel_mode") === "single" ? "single" : "composite";
  }

  /** The channel shown in single mode. */
  get current(): number {
    const axis = this.channelAxis;
    const i = axis === "" ? 0 : (parsePosition(this.model.get("position"))[axis] ?? 0);
    return Math.min(Math.max(i, 0), Math.max(this.channels.length - 1, 0));
  }

  get view(): ChannelView {
    const nan = this.model.get("nan_color");
    return {
      channels: this.channels,
      mode: this.mode,
      current: this.current,
      nanColor: typeof nan === "string" ? nan : "transparent",
    };
  }

  get composite(): boolean {
    return isComposite(this.view);
  }

  passes(): Pass[] {
    return framePasses(this.view);
  }

  /** Channels whose tiles the view needs (the passes'). */
  wanted(): number[] {
    return this.passes().map((p) => p.channel);
  }

  colormap(): string {
    const name = this.model.get("colormap");
    return isColormap(name) ? name : "gray";
  }

  invert(): boolean {
    return this.model.get("invert") === true;
  }

  channelsState(): readonly ChannelState[] {
    return this.channels;
  }

  /** A `change:` event of one of the traits (ours are ignored). */
  onTrait(name: ChannelTrait | "position"): void {
    if (this.writing) return;
    if (name === "channels") this.read();
    if (name === "show_channels") this.showPanel();
    this.refreshPanel();
    this.changed(name === "colormap" || name === "invert");
  }

  private read(): void {
    this.channels = parseChannels(this.model.get("channels"));
    this.refreshPanel();
  }

  private refreshPanel(): void {
    this.panel.update({
      channels: this.channels,
      mode: this.mode,
      current: this.current,
      colormap: this.colormap(),
      invert: this.invert(),
    });
  }

  /** Open or close the panel as the `show_channels` trait says. */
  private showPanel(): void {
    const open = this.model.get("show_channels") === true;
    this.panel.setOpen(open);
    if (open) this.maybeHistogram();
  }

  private maybeHistogram(): void {
    if (this.askedHistogram || this.channels.every((c) => c.histogram.length > 0)) return;
    this.askedHistogram = true;
    this.histogram();
  }

  /** The user changed channel `i`: apply now, write the trait soon. */
  private edit(i: number, patch: ChannelPatch): void {
    const c = this.channels[i];
    if (c === undefined) return;
    this.channels = this.channels.map((ch, j) => (j === i ? { ...ch, ...patch } : ch));
    this.refreshPanel();
    this.changed(false);
    this.timer ??= setTimeout(() => this.flush(), TRAIT_WRITE_MS);
  }

  /** Write a pending `channels` change now. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.write("channels", this.channels.map((c) => ({ ...c })));
  }

  private write(name: ChannelTrait, value: unknown): void {
    this.writing = true;
    try {
      this.model.set(name, value);
    } finally {
      this.writing = false;
    }
    this.model.save_changes();
    this.refreshPanel();
    this.changed(name === "colormap" || name === "invert");
  }

  dispose(): void {
    if (this.timer !== null) this.flush();
    this.panel.dispose();
  }
}
