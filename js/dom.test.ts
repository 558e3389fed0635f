import { describe, expect, it } from "vitest";
import { type FrameReport, INITIAL_HOOKS, frameHooks } from "./dom";

function report(overrides: Partial<FrameReport> = {}): FrameReport {
  return {
    stats: { level: 2, drawn: 6, complete: true, levels: [1, 2], failed: 1 },
    display: { lo: 10, hi: 900, gamma: 1.5 },
    colormap: "viridis",
    outlines: true,
    camera: { center: [50, 60], scale: 4 },
    size: { height: 300, width: 400 },
    tilesCached: 11,
    ...overrides,
  };
}

describe("frameHooks", () => {
  it("reports what the frame drew", () => {
    const r = report();
    const hooks = frameHooks(r);
    expect(hooks).toEqual({
      showTiles: "1",
      display: JSON.stringify({ ...r.display, colormap: r.colormap }),
      level: String(r.stats.level),
      tilesDrawn: String(r.stats.drawn),
      complete: "1",
      failedDrawn: "1",
      tilesCached: String(r.tilesCached),
      camera: JSON.stringify({ center: r.camera!.center, scale: r.camera!.scale, size: [300, 400] }),
    });
    expect(JSON.parse(hooks.display!)).toEqual({ lo: 10, hi: 900, gamma: 1.5, colormap: "viridis" });
    expect(JSON.parse(hooks.camera!).size).toEqual([r.size.height, r.size.width]);
  });

  it("leaves level and camera alone when the frame had none", () => {
    const hooks = frameHooks(
      report({ stats: { level: -1, drawn: 0, complete: false, levels: [], failed: 0 }, camera: null, outlines: false }),
    );
    expect("level" in hooks).toBe(false);
    expect("camera" in hooks).toBe(false);
    expect(hooks.showTiles).toBe("0");
    expect(hooks.complete).toBe("0");
    expect(hooks.tilesDrawn).toBe("0");
  });
});

describe("INITIAL_HOOKS", () => {
  it("starts every counter at zero and the plane empty", () => {
    const { plane, ...counters } = INITIAL_HOOKS;
    expect(plane).toBe("");
    for (const v of Object.values(counters)) expect(v).toBe("0");
    expect(Object.keys(INITIAL_HOOKS).sort()).toEqual(
      ["frames", "level", "plane", "seq", "showTiles", "tilesCached", "tilesDrawn", "tilesFailed", "tilesPending", "tilesReceived"],
    );
  });
});
