import { describe, expect, it } from "vitest";
import { levelExtent } from "./camera";
import { type PlannedTile, chooseLevel, chunkRange, drawRank, intersection, planDraw } from "./lod";
import type { LevelInfo, Rect } from "./protocol";

/** A 3-level pyramid: 1000 px at scale 1, then 2x downsampled twice, 256 px chunks. */
const LEVELS: LevelInfo[] = [0, 1, 2].map((l) => {
  const s = 2 ** l;
  return {
    shape: [Math.ceil(1000 / s), Math.ceil(1000 / s)],
    scale: [s, s],
    offset: [s / 2 - 0.5, s / 2 - 0.5],
    chunk: [256, 256],
  };
});

/** The tile of chunk (iy, ix) of `level`, with bounds from the level's grid. */
function tileOf(level: number, iy: number, ix: number, plane = "z=0"): PlannedTile {
  const info = LEVELS[level]!;
  const ext = levelExtent(info);
  const ch = info.chunk[0] * info.scale[0];
  const cw = info.chunk[1] * info.scale[1];
  const bounds: Rect = [
    ext[0] + iy * ch,
    ext[1] + ix * cw,
    Math.min(ext[2], ext[0] + (iy + 1) * ch),
    Math.min(ext[3], ext[1] + (ix + 1) * cw),
  ];
  return { key: `${level}/${iy},${ix}/${plane}`, level, chunk: [iy, ix], plane, bounds };
}

/** Every tile of a level. */
function allTiles(level: number, plane = "z=0"): PlannedTile[] {
  const info = LEVELS[level]!;
  const out: PlannedTile[] = [];
  for (let iy = 0; iy < Math.ceil(info.shape[0] / info.chunk[0]); iy++) {
    for (let ix = 0; ix < Math.ceil(info.shape[1] / info.chunk[1]); ix++)
      out.push(tileOf(level, iy, ix, plane));
  }
  return out;
}

const WHOLE = levelExtent(LEVELS[0]!);

describe("chooseLevel", () => {
  it("picks the coarsest level whose pixel is at most one device pixel", () => {
    expect(chooseLevel(LEVELS, 1, 1)).toBe(0);
    expect(chooseLevel(LEVELS, 1.99, 1)).toBe(0);
    expect(chooseLevel(LEVELS, 2, 1)).toBe(1);
    expect(chooseLevel(LEVELS, 3.99, 1)).toBe(1);
    expect(chooseLevel(LEVELS, 4, 1)).toBe(2);
    expect(chooseLevel(LEVELS, 1000, 1)).toBe(2);
    expect(chooseLevel(LEVELS, 0.01, 1)).toBe(0);
  });
  it("tolerates rounding of the scale (relative 1e-6, as the kernel)", () => {
    expect(chooseLevel(LEVELS, 2 * (1 - 1e-7), 1)).toBe(1);
    expect(chooseLevel(LEVELS, 2 * (1 - 1e-5), 1)).toBe(0);
  });
  it("counts device pixels: dpr 2 needs twice the resolution", () => {
    expect(chooseLevel(LEVELS, 4, 2)).toBe(1);
    expect(chooseLevel(LEVELS, 2, 2)).toBe(0);
  });
  it("requires both axes of an anisotropic level", () => {
    const aniso: LevelInfo[] = [
      { shape: [10, 10], scale: [1, 1], offset: [0, 0], chunk: [4, 4] },
      { shape: [10, 5], scale: [1, 2], offset: [0, 0.5], chunk: [4, 4] },
      { shape: [5, 5], scale: [2, 2], offset: [0.5, 0.5], chunk: [4, 4] },
    ];
    expect(chooseLevel(aniso, 1.5, 1)).toBe(0);
    expect(chooseLevel(aniso, 2, 1)).toBe(2);
  });
});

describe("chunkRange", () => {
  const l0 = LEVELS[0]!;
  it("finds the chunks a rectangle intersects", () => {
    expect(chunkRange(l0, [0, 0, 10, 10])).toEqual([0, 0, 0, 0]);
    expect(chunkRange(l0, [200, 250, 300, 600])).toEqual([0, 1, 0, 2]);
  });
  it("does not count a chunk that is only touched at its edge", () => {
    const edge = levelExtent(l0)[0] + 256;
    expect(chunkRange(l0, [edge - 10, 0, edge, 10])).toEqual([0, 0, 0, 0]);
    expect(chunkRange(l0, [edge, 0, edge + 10, 10])).toEqual([1, 1, 0, 0]);
  });
  it("clips to the grid and misses outside the image", () => {
    expect(chunkRange(l0, [-1e6, -1e6, 1e6, 1e6])).toEqual([0, 3, 0, 3]);
    expect(chunkRange(l0, [2000, 2000, 3000, 3000])).toBeNull();
  });
});

describe("drawRank", () => {
  it("draws far levels first, coarser before finer on a tie, the target last", () => {
    const order = [0, 1, 2, 3, 4].sort((a, b) => drawRank(a, 2) - drawRank(b, 2));
    expect(order).toEqual([4, 0, 3, 1, 2]);
  });
});

describe("planDraw", () => {
  const keys = (tiles: PlannedTile[]): string[] => tiles.map((t) => t.key);

  it("draws coarse tiles under the target level while it is incomplete", () => {
    const coarse = allTiles(2);
    const fine = [tileOf(0, 0, 0), tileOf(0, 1, 1)];
    const plan = planDraw([...fine, ...coarse], WHOLE, LEVELS, 0, "z=0", null);
    expect(keys(plan.tiles)).toEqual([...keys(coarse), ...keys(fine)]);
    expect(plan.covered).toBe(true); // level 2 alone covers the view
    expect(plan.complete).toBe(false); // but the target level does not yet
  });

  it("is complete once the target level of the current plane covers the view", () => {
    expect(planDraw(allTiles(0), WHOLE, LEVELS, 0, "z=0", null).complete).toBe(true);
    expect(planDraw(allTiles(0, "z=1"), WHOLE, LEVELS, 0, "z=0", "z=1").complete).toBe(false);
    expect(planDraw(allTiles(1), WHOLE, LEVELS, 0, "z=0", null).complete).toBe(false);
  });

  it("culls tiles hidden by a complete later level", () => {
    const coarse = allTiles(2);
    const fine = allTiles(0);
    const plan = planDraw([...coarse, ...fine], WHOLE, LEVELS, 0, "z=0", null);
    expect(keys(plan.tiles)).toEqual(keys(fine));
  });

  it("culls finer tiles under the complete target level when zoomed out", () => {
    const fine = allTiles(0);
    const target = allTiles(1);
    const plan = planDraw([...fine, ...target], WHOLE, LEVELS, 1, "z=0", null);
    expect(keys(plan.tiles)).toEqual(keys(target));
    // Until the target level arrives, the fine tiles are drawn.
    const partial = [target[0]!];
    const plan2 = planDraw([...fine, ...partial], WHOLE, LEVELS, 1, "z=0", null);
    expect(plan2.tiles.at(-1)?.key).toBe(partial[0]!.key);
    expect(plan2.tiles.length).toBeGreaterThan(1);
  });

  it("skips tiles outside the view", () => {
    const view: Rect = [0, 0, 100, 100];
    const plan = planDraw(allTiles(0), view, LEVELS, 0, "z=0", null);
    expect(keys(plan.tiles)).toEqual([tileOf(0, 0, 0).key]);
    for (const t of plan.tiles) expect(intersection(t.bounds, view)).not.toBeNull();
  });

  it("draws the fallback plane underneath until the current plane covers the view", () => {
    const old = allTiles(2, "z=0");
    const some = [tileOf(0, 0, 0, "z=1")];
    const plan = planDraw([...old, ...some], WHOLE, LEVELS, 0, "z=1", "z=0");
    expect(plan.covered).toBe(false);
    expect(keys(plan.tiles)).toEqual([...keys(old), ...keys(some)]);

    const full = allTiles(2, "z=1");
    const plan2 = planDraw([...old, ...full], WHOLE, LEVELS, 0, "z=1", "z=0");
    expect(plan2.covered).toBe(true);
    expect(keys(plan2.tiles)).toEqual(keys(full));
  });

  it("never draws tiles of other planes", () => {
    const plan = planDraw([...allTiles(2, "z=5"), ...allTiles(2, "z=6")], WHOLE, LEVELS, 0, "z=1", "z=0");
    expect(plan.tiles).toEqual([]);
    expect(plan.covered).toBe(false);
  });

  it("counts a view entirely outside the image as covered", () => {
    const plan = planDraw(allTiles(2), [5000, 5000, 6000, 6000], LEVELS, 0, "z=0", "z=9");
    expect(plan).toEqual({ tiles: [], covered: true, complete: true });
  });

  it("draws everything of the plane, unculled, before levels are known", () => {
    const tiles = [...allTiles(2), ...allTiles(1)];
    const plan = planDraw(tiles, WHOLE, [], 0, "z=0", null);
    expect(plan.tiles).toHaveLength(tiles.length);
    expect(plan.covered).toBe(false);
  });
});
