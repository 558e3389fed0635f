import { describe, expect, it } from "vitest";
import { TARGET_CSS_PX, chooseScaleBar, roundDown125 } from "./scalebar";

describe("roundDown125", () => {
  it("steps 1, 2, 5 per decade", () => {
    expect([0.9, 1, 1.9, 2, 4.99, 5, 9.9, 10, 37, 0.0042].map(roundDown125)).toEqual([
      0.5, 1, 1, 2, 2, 5, 5, 10, 20, 0.002,
    ]);
  });
});

describe("chooseScaleBar", () => {
  it("picks a round length near the target, in the prefix that reads best", () => {
    // 0.5 µm per CSS pixel: 110 px is 55 µm -> 50 µm over 100 px.
    expect(chooseScaleBar(0.5, "micrometer")).toEqual({ px: 100, label: "50 µm" });
    // 0.002 µm per px: 0.22 µm -> 200 nm.
    const nm = chooseScaleBar(0.002, "micrometer")!;
    expect(nm.label).toBe("200 nm");
    expect(nm.px).toBeCloseTo(100);
    // 20 µm per px: 2.2 mm -> 2 mm.
    const mm = chooseScaleBar(20, "micrometer")!;
    expect(mm.label).toBe("2 mm");
    expect(mm.px).toBeCloseTo(100, 9);
    expect(chooseScaleBar(3, "nanometer")!.label).toBe("200 nm");
    expect(chooseScaleBar(1e-4, "meter")!.label).toBe("10 mm");
  });

  it("stays between 0.4x and 1x the target length", () => {
    for (let scale = 1e-4; scale < 1e4; scale *= 1.37) {
      const bar = chooseScaleBar(scale, "micrometer")!;
      expect(bar.px).toBeLessThanOrEqual(TARGET_CSS_PX + 1e-9);
      expect(bar.px).toBeGreaterThanOrEqual(0.4 * TARGET_CSS_PX);
    }
  });

  it("uses world units without a length unit, and nothing for a bad scale", () => {
    expect(chooseScaleBar(2, "")).toEqual({ px: 100, label: "200" });
    expect(chooseScaleBar(2, "second")).toEqual({ px: 100, label: "200 s" });
    expect(chooseScaleBar(0, "micrometer")).toBeNull();
    expect(chooseScaleBar(Number.NaN, "micrometer")).toBeNull();
  });
});
