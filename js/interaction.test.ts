import { describe, expect, it } from "vitest";
import { wheelFactor } from "./interaction";

describe("wheelFactor", () => {
  it("zooms in on wheel up, out on wheel down, symmetrically", () => {
    const up = wheelFactor(-100, 0, false, 500);
    const down = wheelFactor(100, 0, false, 500);
    expect(up).toBeGreaterThan(1);
    expect(down).toBeLessThan(1);
    expect(up * down).toBeCloseTo(1, 12);
  });
  it("treats line and page deltas as pixels", () => {
    expect(wheelFactor(1, 1, false, 500)).toBeCloseTo(wheelFactor(16, 0, false, 500), 12);
    expect(wheelFactor(0.1, 2, false, 500)).toBeCloseTo(wheelFactor(50, 0, false, 500), 12);
  });
  it("never zooms more than 2x per event", () => {
    expect(wheelFactor(-1e6, 0, false, 500)).toBeCloseTo(2, 12);
    expect(wheelFactor(1e6, 0, true, 500)).toBeCloseTo(0.5, 12);
  });
  it("zooms faster for trackpad pinches (ctrl+wheel)", () => {
    expect(wheelFactor(-10, 0, true, 500)).toBeGreaterThan(wheelFactor(-10, 0, false, 500));
  });
});
