/**
 * Channels: what to draw for the `channels`, `channel_mode`, `channel_axis`,
 * `colormap`, `invert` and `nan_color` traits, as a list of passes
 * ({@link framePasses}), and small pure helpers for the channel panel.
 *
 * - `composite`: every visible channel is one pass, a black-to-colour ramp
 *   in its own contrast window and gamma; the passes are added.
 * - `single`: one pass, the channel at `position[channel_axis]` (the first
 *   without a channel axis), through the colormap (maybe inverted) in that
 *   channel's window and gamma.
 *
 * The channels a view asks the kernel for are the passes' channels, so a
 * hidden channel's tiles are never requested.
 *
 * Pure: no DOM, no WebGL.
 */

import { parseHexColor } from "./colormaps";
import type { Pass } from "./layer";
import type { ChannelState } from "./protocol";

export type ChannelMode = "composite" | "single";

/** What the passes depend on (read from the traits). */
export interface ChannelView {
  channels: readonly ChannelState[];
  mode: ChannelMode;
  /** Index shown in single mode. */
  current: number;
  /** `nan_color`: "transparent" or "#rrggbb". */
  nanColor: string;
}

/** [r, g, b, a] in 0..1 for `nan_color`. */
export function nanRGBA(nanColor: string): [number, number, number, number] {
  const rgb = parseHexColor(nanColor);
  return rgb === null ? [0, 0, 0, 0] : [rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, 1];
}

/** The passes of a frame, in channel order. */
export function framePasses(v: ChannelView): Pass[] {
  const nan = nanRGBA(v.nanColor);
  if (v.mode === "single" || v.channels.length <= 1) {
    const i = Math.min(Math.max(v.current, 0), Math.max(v.channels.length - 1, 0));
    const c = v.channels[i];
    if (c === undefined) return [];
    return [{ channel: i, display: { lo: c.contrast_limits[0], hi: c.contrast_limits[1], gamma: c.gamma, nan } }];
  }
  const passes: Pass[] = [];
  v.channels.forEach((c, i) => {
    if (!c.visible) return;
    const rgb = parseHexColor(c.color) ?? [255, 255, 255];
    passes.push({
      channel: i,
      display: {
        lo: c.contrast_limits[0],
        hi: c.contrast_limits[1],
        gamma: c.gamma,
        color: [rgb[0] / 255, rgb[1] / 255, rgb[2] / 255],
        nan,
      },
    });
  });
  return passes;
}

/** Whether the frame is a composite (passes added) rather than one channel through the colormap. */
export function isComposite(v: ChannelView): boolean {
  return v.mode === "composite" && v.channels.length > 1;
}

/**
 * A contrast window from a histogram over `range`: the bin edges holding the
 * `lo` and `hi` quantiles (0.5% and 99.5% by default), or null without counts.
 */
export function windowFromHistogram(
  histogram: readonly number[],
  range: readonly [number, number],
  lo = 0.005,
  hi = 0.995,
): [number, number] | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total <= 0 || !(range[1] > range[0])) return null;
  const width = (range[1] - range[0]) / histogram.length;
  const edge = (q: number, upper: boolean): number => {
    let seen = 0;
    for (let i = 0; i < histogram.length; i++) {
      seen += histogram[i]!;
      if (seen >= q * total) return range[0] + (upper ? i + 1 : i) * width;
    }
    return range[1];
  };
  const a = edge(lo, false);
  const b = edge(hi, true);
  return b > a ? [a, b] : [range[0], range[1]];
}
