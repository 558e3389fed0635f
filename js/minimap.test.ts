import { describe, expect, it } from "vitest";
import { MINIMAP_PX, minimapSize, minimapToWorld, parseOverview, showsAll, viewRect } from "./minimap";

const O = parseOverview({ png: "AAAA", bounds: [0, 0, 100, 200] })!;

describe("minimap", () => {
  it("parses the overview trait and refuses malformed ones", () => {
    expect(O.src).toBe("data:image/png;base64,AAAA");
    for (const bad of [null, {}, { png: "", bounds: [0, 0, 1, 1] }, { png: "A", bounds: [0, 0, 1] }, { png: "A", bounds: [0, 0, 0, 1] }, { png: "A", bounds: [0, 0, NaN, 1] }]) {
      expect(parseOverview(bad)).toBeNull();
    }
  });
  it("keeps the image's aspect, longest side MINIMAP_PX", () => {
    expect(minimapSize(O)).toEqual([MINIMAP_PX / 2, MINIMAP_PX]);
  });
  it("outlines the part of the image on screen, clipped", () => {
    // A view of 50 x 50 world units centred on (25, 50): minimap px are 0.8 per unit.
    const [top, left, h, w] = viewRect(O, { center: [25, 50], scale: 0.5 }, { height: 100, width: 100 });
    expect([top, left, h, w].map((v) => Math.round(v * 10) / 10)).toEqual([0, 20, 40, 40]);
    const edge = viewRect(O, { center: [0, 0], scale: 1 }, { height: 100, width: 100 });
    expect(edge).toEqual([0, 0, 40, 40]);
  });
  it("says when the whole image is on screen", () => {
    expect(showsAll(O, { center: [50, 100], scale: 1 }, { height: 100, width: 200 })).toBe(true);
    expect(showsAll(O, { center: [50, 100], scale: 0.5 }, { height: 100, width: 200 })).toBe(false);
  });
  it("maps a click back to the world", () => {
    expect(minimapToWorld(O, [40, 80])).toEqual([50, 100]);
    expect(minimapToWorld(O, [0, 0])).toEqual([0, 0]);
  });
});
