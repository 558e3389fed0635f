import { describe, expect, it } from "vitest";
import {
  type Camera,
  fitCamera,
  levelExtent,
  panBy,
  pixelIndex,
  scaleFromZoom,
  scaleLimits,
  screenToWorld,
  visibleRect,
  worldToScreen,
  zoomAbout,
  zoomFromScale,
} from "./camera";
import type { LevelInfo } from "./protocol";

const L0: LevelInfo = { shape: [300, 800], scale: [0.5, 0.25], offset: [10, -4], chunk: [128, 128] };
const SIZE = { height: 400, width: 600 };

describe("transforms", () => {
  const cam: Camera = { center: [37.5, 12.25], scale: 0.125 };
  it("world -> screen -> world is the identity", () => {
    for (const p of [
      [0, 0],
      [37.5, 12.25],
      [-100, 250.75],
    ] as [number, number][]) {
      const back = screenToWorld(cam, SIZE, worldToScreen(cam, SIZE, p));
      expect(back[0]).toBeCloseTo(p[0], 9);
      expect(back[1]).toBeCloseTo(p[1], 9);
    }
  });
  it("puts the centre in the middle and the visible rect at the corners", () => {
    expect(worldToScreen(cam, SIZE, cam.center)).toEqual([SIZE.height / 2, SIZE.width / 2]);
    const r = visibleRect(cam, SIZE);
    expect(worldToScreen(cam, SIZE, [r[0], r[1]])).toEqual([0, 0]);
    expect(worldToScreen(cam, SIZE, [r[2], r[3]])).toEqual([SIZE.height, SIZE.width]);
  });
});

describe("levelExtent", () => {
  it("spans the outer pixel edges around the pixel-centre offset", () => {
    const [y0, x0, y1, x1] = levelExtent(L0);
    expect(y0).toBe(L0.offset[0] - L0.scale[0] / 2);
    expect(x0).toBe(L0.offset[1] - L0.scale[1] / 2);
    expect(y1 - y0).toBeCloseTo(L0.shape[0] * L0.scale[0], 12);
    expect(x1 - x0).toBeCloseTo(L0.shape[1] * L0.scale[1], 12);
  });
});

describe("fitCamera", () => {
  it("shows the whole image, touching the canvas on the tighter axis", () => {
    const cam = fitCamera(L0, SIZE);
    const ext = levelExtent(L0);
    const r = visibleRect(cam, SIZE);
    const eps = 1e-9;
    expect(r[0]).toBeLessThanOrEqual(ext[0] + eps);
    expect(r[1]).toBeLessThanOrEqual(ext[1] + eps);
    expect(r[2]).toBeGreaterThanOrEqual(ext[2] - eps);
    expect(r[3]).toBeGreaterThanOrEqual(ext[3] - eps);
    const touchesY = Math.abs(r[0] - ext[0]) < eps && Math.abs(r[2] - ext[2]) < eps;
    const touchesX = Math.abs(r[1] - ext[1]) < eps && Math.abs(r[3] - ext[3]) < eps;
    expect(touchesY || touchesX).toBe(true);
    expect(cam.center).toEqual([(ext[0] + ext[2]) / 2, (ext[1] + ext[3]) / 2]);
  });
});

describe("zoomAbout / panBy", () => {
  const cam = fitCamera(L0, SIZE);
  it("keeps the world point under the anchor fixed", () => {
    const anchor: [number, number] = [123, 456];
    const before = screenToWorld(cam, SIZE, anchor);
    const z = zoomAbout(cam, SIZE, 2.5, anchor);
    expect(z.scale).toBeCloseTo(cam.scale / 2.5, 12);
    const after = screenToWorld(z, SIZE, anchor);
    expect(after[0]).toBeCloseTo(before[0], 9);
    expect(after[1]).toBeCloseTo(before[1], 9);
  });
  it("clamps the scale to the limits, still keeping the anchor fixed", () => {
    const limits = scaleLimits([L0], SIZE);
    const anchor: [number, number] = [10, 20];
    const before = screenToWorld(cam, SIZE, anchor);
    const z = zoomAbout(cam, SIZE, 1e9, anchor, limits);
    expect(z.scale).toBe(limits[0]);
    expect(screenToWorld(z, SIZE, anchor)[1]).toBeCloseTo(before[1], 9);
    expect(zoomAbout(cam, SIZE, 1e-9, anchor, limits).scale).toBe(limits[1]);
  });
  it("a drag moves the content with the pointer", () => {
    const p: [number, number] = [50, 60];
    const world = screenToWorld(cam, SIZE, p);
    const moved = panBy(cam, 7, -11);
    const s = worldToScreen(moved, SIZE, world);
    expect(s[0]).toBeCloseTo(p[0] + 7, 9);
    expect(s[1]).toBeCloseTo(p[1] - 11, 9);
  });
});

describe("zoom trait and pixels", () => {
  it("zoom is CSS pixels per level-0 pixel along x, and round-trips", () => {
    expect(zoomFromScale(L0, L0.scale[1])).toBe(1);
    expect(scaleFromZoom(L0, zoomFromScale(L0, 0.0371))).toBeCloseTo(0.0371, 15);
  });
  it("pixelIndex finds the pixel whose centre is nearest", () => {
    const iy = 17;
    const ix = 250;
    const centre: [number, number] = [L0.offset[0] + iy * L0.scale[0], L0.offset[1] + ix * L0.scale[1]];
    expect(pixelIndex(L0, centre)).toEqual([iy, ix]);
    expect(pixelIndex(L0, [centre[0] + 0.49 * L0.scale[0], centre[1] - 0.49 * L0.scale[1]])).toEqual([
      iy,
      ix,
    ]);
  });
});
