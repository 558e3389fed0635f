import { describe, expect, it } from "vitest";
import { type Camera, screenToWorld } from "./camera";
import { GRAB_PX, crosshairAt, grabs, parseCrosshair } from "./crosshair";

const SIZE = { height: 200, width: 300 };
const CAM: Camera = { center: [50, 80], scale: 0.5 };

describe("crosshair", () => {
  it("parses the trait: [] and malformed values are no crosshair", () => {
    expect(parseCrosshair([3, 4.5])).toEqual([3, 4.5]);
    for (const bad of [[], [1], [1, 2, 3], ["1", 2], [Number.NaN, 1], [1, Infinity], null, "1,2", {}]) {
      expect(parseCrosshair(bad)).toBeNull();
    }
  });
  it("is drawn where its world point is on screen", () => {
    const at = crosshairAt(CAM, SIZE, [60, 70]);
    expect(at).not.toBeNull();
    const back = screenToWorld(CAM, SIZE, at!);
    expect(back[0]).toBeCloseTo(60, 9);
    expect(back[1]).toBeCloseTo(70, 9);
    expect(crosshairAt(CAM, SIZE, [50, 80])).toEqual([100, 150]); // the centre of the view
    expect(crosshairAt(null, SIZE, [1, 2])).toBeNull();
    expect(crosshairAt(CAM, SIZE, null)).toBeNull();
  });
  it("is grabbed near either line, not elsewhere", () => {
    const cross: [number, number] = [100, 150];
    expect(grabs(cross, [100 + GRAB_PX, 10])).toBe(true); // on the horizontal line, far left
    expect(grabs(cross, [5, 150 - GRAB_PX])).toBe(true); // on the vertical line, at the top
    expect(grabs(cross, [100 + GRAB_PX + 1, 150 + GRAB_PX + 1])).toBe(false);
    expect(grabs(null, [100, 150])).toBe(false);
  });
});
