import { describe, expect, it } from "vitest";
import type { Camera, ViewSize } from "./camera";
import {
  CHUNK_STATES,
  STATE_COLORS,
  chunkRange,
  chunkRect,
  deviceMapping,
  fillColor,
  parseChunkStates,
  planChunkGrid,
} from "./chunkgrid";
import { outlineColor } from "./outlines";
import type { LevelInfo } from "./protocol";

/** 300 x 500 pixels of 0.5 units, chunks 128 x 128: 3 x 4 chunks, the last ones cut. */
const LEVEL: LevelInfo = { shape: [300, 500], scale: [0.5, 0.5], offset: [0, 0], chunk: [128, 128] };

describe("parseChunkStates", () => {
  it("reads the kernel's encoding and drops what is malformed", () => {
    const parsed = parseChunkStates({
      states: ["held", "cached", "loading", "failed"],
      levels: { "0": [[1, 2, 0], [0, 0, 3], [1, 1, 9], [1, "x", 0], [2, 2]], "2": [[0, 1, 1]], bad: [[0, 0, 0]] },
    });
    expect([...parsed.keys()]).toEqual([0, 2]);
    expect(parsed.get(0)).toEqual([
      { iy: 1, ix: 2, state: "held" },
      { iy: 0, ix: 0, state: "failed" },
    ]);
    expect(parsed.get(2)).toEqual([{ iy: 0, ix: 1, state: "cached" }]);
    expect(parseChunkStates({}).size).toBe(0);
    expect(parseChunkStates(null).size).toBe(0);
  });
});

describe("state colours", () => {
  it("are four, distinct from each other and from every outline colour", () => {
    expect(CHUNK_STATES).toEqual(["held", "cached", "loading", "failed"]);
    const colors = CHUNK_STATES.map((s) => STATE_COLORS[s]);
    for (let i = 0; i < colors.length; i++) {
      for (let j = i + 1; j < colors.length; j++) {
        const [a, b] = [colors[i]!, colors[j]!];
        expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeGreaterThan(90);
      }
    }
    expect(STATE_COLORS.failed).toEqual([224, 64, 64]); // as the failed tiles' stripes
    expect(fillColor("held")).toBe("rgba(64, 200, 120, 0.35)");
  });
});

describe("chunk geometry", () => {
  it("chunkRect gives the outer pixel edges, the last chunks cut to the image", () => {
    expect(chunkRect(LEVEL, 0, 0)).toEqual([-0.25, -0.25, 63.75, 63.75]);
    expect(chunkRect(LEVEL, 2, 3)).toEqual([127.75, 191.75, 149.75, 249.75]);
  });

  it("chunkRange covers the chunks a world rectangle touches, inside the image", () => {
    expect(chunkRange(LEVEL, [0, 0, 10, 10])).toEqual({ y: [0, 1], x: [0, 1] });
    expect(chunkRange(LEVEL, [60, 60, 70, 130])).toEqual({ y: [0, 2], x: [0, 3] });
    expect(chunkRange(LEVEL, [-1000, -1000, 1000, 1000])).toEqual({ y: [0, 3], x: [0, 4] });
    expect(chunkRange(LEVEL, [500, 500, 600, 600])).toEqual({ y: [0, 0], x: [0, 0] });
  });
});

describe("planChunkGrid", () => {
  // One level-pixel per device pixel: the camera's scale is 0.5 units per CSS px, dpr 1.
  const size: ViewSize = { height: 300, width: 500 };
  const cam: Camera = { center: [74.75, 124.75], scale: 0.5 };
  const toDevice = deviceMapping(cam, size, 500, 300);
  const view: [number, number, number, number] = [-0.25, -0.25, 149.75, 249.75];

  it("maps world to device pixels (level pixel edges onto whole pixels)", () => {
    expect(toDevice([-0.25, -0.25])).toEqual([0, 0]);
    expect(toDevice([63.75, 63.75])).toEqual([128, 128]);
  });

  it("outlines every chunk in view in the level's colour and fills the pool's chunks inside", () => {
    const entries = [
      { iy: 0, ix: 0, state: "held" as const },
      { iy: 1, ix: 2, state: "failed" as const },
      { iy: 2, ix: 3, state: "cached" as const },
      { iy: 7, ix: 7, state: "loading" as const }, // not in view
    ];
    const plan = planChunkGrid(LEVEL, 1, entries, view, toDevice, 500, 300);
    expect(plan.counts).toEqual({ held: 1, cached: 1, loading: 0, failed: 1 });
    expect(plan.lines.runs).toEqual([{ level: 1, color: outlineColor(1), first: 0, count: plan.lines.quads.length / 4 }]);
    expect(plan.lines.levels).toEqual([1]);
    // 12 chunks, 4 quads each (some clipped away at the far borders are still drawn on the last pixel).
    expect(plan.lines.quads.length / 4).toBe(48);
    // Cells lie strictly between their grid lines: chunk (0, 0) spans device pixels 0..128.
    expect(plan.cells[0]).toEqual({ x0: 1, y0: 1, x1: 128, y1: 128, state: "held", iy: 0, ix: 0 });
    expect(plan.cells[1]).toEqual({ x0: 257, y0: 129, x1: 384, y1: 256, state: "failed", iy: 1, ix: 2 });
    // The cut corner chunk ends on the canvas's last pixel, where its outline is drawn.
    expect(plan.cells[2]).toEqual({ x0: 385, y0: 257, x1: 499, y1: 299, state: "cached", iy: 2, ix: 3 });
  });

  it("draws no grid lines beyond its cell bound", () => {
    const tiny: LevelInfo = { ...LEVEL, chunk: [1, 1] }; // 150,000 one-pixel chunks
    const plan = planChunkGrid(tiny, 0, [{ iy: 5, ix: 5, state: "held" }], view, toDevice, 500, 300);
    expect(plan.lines.quads.length).toBe(0);
    expect(plan.counts.held).toBe(0); // a one-pixel cell has no inside between its lines
  });
});
