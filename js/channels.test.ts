import { describe, expect, it } from "vitest";
import { type ChannelView, framePasses, isComposite, nanRGBA, windowFromHistogram } from "./channels";
import type { ChannelState } from "./protocol";

const channel = (color: string, visible = true, limits: [number, number] = [0, 100]): ChannelState => ({
  name: color,
  color,
  contrast_limits: limits,
  gamma: 1,
  visible,
  range: [0, 255],
  histogram: [],
});

describe("framePasses", () => {
  const view = (over: Partial<ChannelView> = {}): ChannelView => ({
    channels: [channel("#ff0000"), channel("#00ff00", false), channel("#0000ff", true, [10, 20])],
    mode: "composite",
    current: 0,
    nanColor: "transparent",
    ...over,
  });

  it("composite: one ramp pass per visible channel; hidden ones are not asked for", () => {
    const passes = framePasses(view());
    expect(passes.map((p) => p.channel)).toEqual([0, 2]);
    expect(passes[0]!.display.color).toEqual([1, 0, 0]);
    expect(passes[1]!.display).toMatchObject({ lo: 10, hi: 20, color: [0, 0, 1], nan: [0, 0, 0, 0] });
    expect(isComposite(view())).toBe(true);
  });

  it("single: the current channel through the colormap, hidden or not", () => {
    const passes = framePasses(view({ mode: "single", current: 1, nanColor: "#ff00ff" }));
    expect(passes).toHaveLength(1);
    expect(passes[0]!.channel).toBe(1);
    expect(passes[0]!.display.color).toBeUndefined();
    expect(passes[0]!.display.nan).toEqual([1, 0, 1, 1]);
    expect(isComposite(view({ mode: "single" }))).toBe(false);
  });

  it("one channel is always single; no channels, no passes", () => {
    expect(isComposite(view({ channels: [channel("#ffffff")] }))).toBe(false);
    expect(framePasses(view({ channels: [channel("#ffffff")] }))[0]!.display.color).toBeUndefined();
    expect(framePasses(view({ channels: [] }))).toEqual([]);
  });
});

describe("nanRGBA / windowFromHistogram", () => {
  it("transparent unless a colour is given", () => {
    expect(nanRGBA("transparent")).toEqual([0, 0, 0, 0]);
    expect(nanRGBA("#808080")[3]).toBe(1);
  });

  it("takes the bins holding the 0.5% and 99.5% quantiles", () => {
    const h = new Array(64).fill(0);
    h[8] = 1000;
    h[40] = 1000;
    expect(windowFromHistogram(h, [0, 64])).toEqual([8, 41]);
    expect(windowFromHistogram(new Array(64).fill(0), [0, 64])).toBeNull();
  });
});
