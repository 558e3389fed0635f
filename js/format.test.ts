import { describe, expect, it } from "vitest";
import {
  coordinateDecimals,
  decimalsFor,
  formatFixed,
  formatPending,
  formatPosition,
  planeNames,
  formatZoom,
  sliderLabel,
  unitSymbol,
} from "./format";
import type { SliderInfo } from "./protocol";

const z: SliderInfo = { name: "z", type: "space", unit: "micrometer", size: 64, scale: 0.5, offset: 0, labels: [] };

describe("sliderLabel", () => {
  it("shows name, index / last index and the physical position with unit", () => {
    expect(sliderLabel(z, 12)).toBe("z 12 / 63 · 6.0 µm");
  });
  it("uses as many decimals as the step needs", () => {
    expect(sliderLabel({ ...z, scale: 2 }, 3)).toBe("z 3 / 63 · 6 µm");
    expect(sliderLabel({ ...z, scale: 0.25, offset: 0.125 }, 1)).toBe("z 1 / 63 · 0.375 µm");
    expect(sliderLabel({ ...z, name: "t", type: "time", unit: "millisecond", scale: 40 }, 2)).toBe(
      "t 2 / 63 · 80 ms",
    );
  });
  it("shows no physical position for channels, and no unit when there is none", () => {
    expect(sliderLabel({ name: "c", type: "channel", unit: "", size: 3, scale: 1, offset: 0, labels: [] }, 1)).toBe(
      "c 1 / 2",
    );
    const c = { name: "c", type: "channel", unit: "", size: 3, scale: 1, offset: 0, labels: ["dna", "membrane", "actin"] };
    expect(sliderLabel(c, 1)).toBe("c 1 / 2 · membrane");
    expect(sliderLabel({ ...z, unit: "" }, 12)).toBe("z 12 / 63 · 6.0");
  });
});

describe("numbers and units", () => {
  it("maps OME-NGFF unit names to symbols and keeps unknown ones", () => {
    expect(unitSymbol("micrometer")).toBe("µm");
    expect(unitSymbol("second")).toBe("s");
    expect(unitSymbol("furlong")).toBe("furlong");
    expect(unitSymbol(null)).toBe("");
  });
  it("picks decimals from the step", () => {
    expect(decimalsFor(1)).toBe(0);
    expect(decimalsFor(0.5)).toBe(1);
    expect(decimalsFor(0.1)).toBe(1);
    expect(decimalsFor(0.01)).toBe(2);
    expect(decimalsFor(0.25)).toBe(2);
    expect(decimalsFor(0.0325)).toBe(4);
    expect(decimalsFor(1 / 3)).toBe(2);
    expect(decimalsFor(1.5)).toBe(1);
  });
  it("never prints -0", () => {
    expect(formatFixed(-0.0001, 2)).toBe("0.00");
    expect(formatFixed(-0.01, 2)).toBe("-0.01");
  });
  it("formats the cursor position at the resolution of a screen pixel", () => {
    expect(coordinateDecimals(0.05)).toBe(2);
    expect(coordinateDecimals(3)).toBe(0);
    expect(formatPosition([12.345, -3.2], 0.05, "micrometer")).toBe("y 12.35, x -3.20 µm");
    expect(formatPosition([12.345, -3.2], 5, "")).toBe("y 12, x -3");
    expect(formatPosition([12.345, -3.2], 5, "", planeNames("xz"))).toBe("z 12, x -3");
    expect(planeNames("")).toEqual(["y", "x"]);
    expect(planeNames("zy")).toEqual(["y", "z"]);
  });
  it("formats pending tiles and zoom", () => {
    expect(formatPending(0)).toBe("");
    expect(formatPending(1)).toBe("1 tile loading");
    expect(formatPending(12)).toBe("12 tiles loading");
    expect(formatZoom(1)).toBe("100%");
    expect(formatZoom(0.125)).toBe("13%");
    expect(formatZoom(0.05)).toBe("5.0%");
  });
});
