import { describe, expect, it } from "vitest";
import { type Camera, type ViewSize, worldToScreen } from "./camera";
import {
  OUTLINE_PALETTE,
  type OutlinePlan,
  type OutlineTile,
  cssColor,
  edgePixel,
  outlineColor,
  planOutlines,
} from "./outlines";

/** Device pixels [y, x] -> the level of the outline drawn there (last drawn wins), for a small canvas. */
function rasterize(plan: OutlinePlan, width: number, height: number): (number | null)[][] {
  const grid: (number | null)[][] = Array.from({ length: height }, () => Array<number | null>(width).fill(null));
  for (const run of plan.runs) {
    for (let q = run.first; q < run.first + run.count; q++) {
      const [x0, y0, x1, y1] = Array.from(plan.quads.subarray(4 * q, 4 * q + 4));
      for (let y = y0!; y < y1!; y++) for (let x = x0!; x < x1!; x++) grid[y]![x] = run.level;
    }
  }
  return grid;
}

const identity = (p: [number, number]): [number, number] => [p[0], p[1]];

describe("outline colours", () => {
  it("start yellow, cyan, magenta, lime and cycle", () => {
    expect(outlineColor(0)).toEqual([255, 221, 0]);
    expect(cssColor(outlineColor(1))).toBe("#22d3ee");
    expect(outlineColor(2)).toEqual(OUTLINE_PALETTE[2]);
    expect(outlineColor(OUTLINE_PALETTE.length)).toEqual(outlineColor(0));
    expect(outlineColor(OUTLINE_PALETTE.length + 3)).toEqual(outlineColor(3));
    expect(outlineColor(-1)).toEqual(outlineColor(OUTLINE_PALETTE.length - 1));
  });

  it("are clearly distinct from each other and from gray image data", () => {
    for (const c of OUTLINE_PALETTE) {
      expect(Math.max(...c) - Math.min(...c)).toBeGreaterThan(120); // saturated: never gray
    }
    for (let i = 0; i < OUTLINE_PALETTE.length; i++) {
      for (let j = i + 1; j < OUTLINE_PALETTE.length; j++) {
        const a = OUTLINE_PALETTE[i]!;
        const b = OUTLINE_PALETTE[j]!;
        expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeGreaterThan(90);
      }
    }
  });

  it("format as #rrggbb", () => {
    expect(cssColor([0, 15, 255])).toBe("#000fff");
    expect(cssColor([300, -2, 127.6])).toBe("#ff0080");
  });
});

describe("edgePixel", () => {
  it("is the device pixel containing the edge", () => {
    expect(edgePixel(10.3, 100)).toBe(10);
    expect(edgePixel(10, 100)).toBe(10);
    expect(edgePixel(9.9999999999, 100)).toBe(10); // on a pixel border up to rounding
    expect(edgePixel(-0.5, 100)).toBe(-1);
  });
  it("draws an edge on the far border on the last pixel, but not one beyond it", () => {
    expect(edgePixel(100, 100)).toBe(99);
    expect(edgePixel(100.5, 100)).toBe(100);
    expect(edgePixel(0, 100)).toBe(0);
  });
});

describe("planOutlines", () => {
  it("outlines a tile with one-pixel lines on its edges' pixels", () => {
    const plan = planOutlines([{ level: 2, bounds: [2.5, 3.2, 9.5, 12.7] }], identity, 20, 16);
    const grid = rasterize(plan, 20, 16);
    expect(plan.levels).toEqual([2]);
    expect(plan.runs).toEqual([{ level: 2, color: outlineColor(2), first: 0, count: 4 }]);
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 20; x++) {
        const onBox = (y >= 2 && y <= 9 && (x === 3 || x === 12)) || (x >= 3 && x <= 12 && (y === 2 || y === 9));
        expect(grid[y]![x]).toBe(onBox ? 2 : null);
      }
    }
    // no pixel drawn twice: the four quads do not overlap
    let area = 0;
    for (let q = 0; q < plan.quads.length; q += 4) {
      area += (plan.quads[q + 2]! - plan.quads[q]!) * (plan.quads[q + 3]! - plan.quads[q + 1]!);
    }
    expect(area).toBe(2 * 10 + 2 * 6);
  });

  it("draws an edge shared by two tiles on one line of pixels", () => {
    const tiles: OutlineTile[] = [
      { level: 0, bounds: [0.4, 0.4, 6.6, 5.5] },
      { level: 0, bounds: [0.4, 5.5, 6.6, 10.6] },
    ];
    const grid = rasterize(planOutlines(tiles, identity, 12, 8), 12, 8);
    const row = grid[3]!;
    expect(row.map((v) => (v === null ? "." : "#")).join("")).toBe("#....#....#.");
  });

  it("keeps the draw order: where levels share an edge the later one shows", () => {
    const tiles: OutlineTile[] = [
      { level: 1, bounds: [0, 0, 8, 8] },
      { level: 0, bounds: [0, 0, 4, 4] },
      { level: 0, bounds: [0, 4, 4, 8] },
    ];
    const plan = planOutlines(tiles, identity, 10, 10);
    expect(plan.runs.map((r) => [r.level, r.count])).toEqual([
      [1, 4],
      [0, 8],
    ]);
    expect(plan.levels).toEqual([0, 1]);
    const grid = rasterize(plan, 10, 10);
    expect(grid[0]![2]).toBe(0); // shared top edge: level 0, drawn last
    expect(grid[6]![0]).toBe(1); // only the level-1 tile has an edge there
    expect(grid[8]![8]).toBe(1); // the level-1 tile's far corner
  });

  it("clips to the canvas and keeps coordinates small for huge tiles", () => {
    // A tile reaching far outside a 50 x 40 canvas: only its visible left edge is drawn.
    const plan = planOutlines([{ level: 3, bounds: [-1e9, 20.2, 1e9, 1e12] }], identity, 50, 40);
    expect(Array.from(plan.quads)).toEqual([20, 0, 21, 40]);
    expect(plan.levels).toEqual([3]);
    // A tile covering the whole canvas has no visible edge, but its level is drawn.
    const cover = planOutlines([{ level: 1, bounds: [-5, -5, 100, 100] }], identity, 50, 40);
    expect(cover.quads.length).toBe(0);
    expect(cover.runs).toEqual([]);
    expect(cover.levels).toEqual([1]);
  });

  it("shows the edges of an image fitted exactly to the canvas", () => {
    const grid = rasterize(planOutlines([{ level: 0, bounds: [0, 0, 8, 10] }], identity, 10, 8), 10, 8);
    expect(grid[0]!.every((v) => v === 0)).toBe(true);
    expect(grid[7]!.every((v) => v === 0)).toBe(true);
    expect(grid.every((row) => row[0] === 0 && row[9] === 0)).toBe(true);
  });

  it("maps world bounds through the camera in device pixels (dpr 2)", () => {
    const cam: Camera = { center: [100, 200], scale: 0.5 };
    const size: ViewSize = { height: 30, width: 40 };
    const dpr = 2;
    const toDevice = (p: [number, number]): [number, number] => {
      const [sy, sx] = worldToScreen(cam, size, p);
      return [sy * dpr, sx * dpr];
    };
    const plan = planOutlines([{ level: 0, bounds: [96, 195, 104, 205] }], toDevice, 80, 60);
    // world y 96..104 -> css 7..23 -> device 14..46; x 195..205 -> css 10..30 -> device 20..60
    const grid = rasterize(plan, 80, 60);
    expect(grid[14]![20]).toBe(0);
    expect(grid[46]![60]).toBe(0);
    expect(grid[30]![20]).toBe(0);
    expect(grid[30]![19]).toBe(null);
    expect(grid[30]![21]).toBe(null);
  });

  it("skips tiles whose bounds are not finite", () => {
    const plan = planOutlines([{ level: 0, bounds: [0, 0, Number.NaN, 4] }], identity, 10, 10);
    expect(plan.quads.length).toBe(0);
    expect(plan.levels).toEqual([]);
  });
});
