import { describe, expect, it } from "vitest";
import { NAMED_COLORMAPS, colormapLUT, isColormap, parseHexColor } from "./colormaps";

const rgb = (lut: Uint8Array, i: number): number[] => [lut[4 * i]!, lut[4 * i + 1]!, lut[4 * i + 2]!];

describe("colormapLUT", () => {
  it("gives 256 opaque RGBA entries for every named colormap", () => {
    for (const name of NAMED_COLORMAPS) {
      const lut = colormapLUT(name);
      expect(lut).toHaveLength(1024);
      for (let i = 0; i < 256; i++) expect(lut[4 * i + 3]).toBe(255);
    }
  });
  it("gray is the identity ramp", () => {
    const lut = colormapLUT("gray");
    for (let i = 0; i < 256; i++) expect(rgb(lut, i)).toEqual([i, i, i]);
  });
  it("viridis, magma and inferno start and end at their published colours", () => {
    // Endpoints of the published tables (matplotlib _cm_listed): viridis #440154 -> #fde725,
    // magma #000004 -> #fcfdbf, inferno #000004 -> #fcffa4.
    const ends: Record<string, [string, string]> = {
      viridis: ["#440154", "#fde725"],
      magma: ["#000004", "#fcfdbf"],
      inferno: ["#000004", "#fcffa4"],
      // plasma #0d0887 -> #f0f921, cividis #00224e -> #fee838 (matplotlib), turbo #30123b -> #7a0403.
      plasma: ["#0d0887", "#f0f921"],
      cividis: ["#00224e", "#fee838"],
      turbo: ["#30123b", "#7a0403"],
    };
    for (const [name, [first, last]] of Object.entries(ends)) {
      const lut = colormapLUT(name);
      expect(rgb(lut, 0)).toEqual(parseHexColor(first));
      expect(rgb(lut, 255)).toEqual(parseHexColor(last));
    }
  });
  it("the perceptual maps get brighter along the table", () => {
    for (const name of ["viridis", "magma", "inferno", "plasma", "cividis"]) {
      const lut = colormapLUT(name);
      const luma = (i: number): number => {
        const [r, g, b] = rgb(lut, i);
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      for (let i = 16; i < 256; i += 16) expect(luma(i)).toBeGreaterThan(luma(i - 16));
    }
  });
  it("#rrggbb is a ramp from black to that colour", () => {
    const lut = colormapLUT("#FF8000");
    expect(rgb(lut, 0)).toEqual([0, 0, 0]);
    expect(rgb(lut, 255)).toEqual([255, 128, 0]);
    expect(rgb(lut, 51)).toEqual([51, Math.round((128 * 51) / 255), 0]);
  });
  it("_r and invert reverse a map; both together cancel", () => {
    for (const name of NAMED_COLORMAPS) {
      const lut = colormapLUT(name);
      const r = colormapLUT(`${name}_r`);
      for (let i = 0; i < 256; i += 15) expect(rgb(r, i)).toEqual(rgb(lut, 255 - i));
      expect(colormapLUT(name, undefined, true)).toEqual(r);
      expect(colormapLUT(`${name}_r`, undefined, true)).toEqual(lut);
      expect(isColormap(`${name}_r`)).toBe(true);
    }
  });
  it("colour names are ramps to that colour", () => {
    expect(rgb(colormapLUT("magenta"), 255)).toEqual([255, 0, 255]);
    expect(rgb(colormapLUT("cyan"), 0)).toEqual([0, 0, 0]);
    expect(colormapLUT("yellow")).toEqual(colormapLUT("#ffff00"));
    expect(isColormap("green_r")).toBe(true);
  });
  it("falls back to gray with a warning for unknown names", () => {
    const warnings: string[] = [];
    expect(colormapLUT("jet", (m) => warnings.push(m))).toEqual(colormapLUT("gray"));
    expect(warnings).toHaveLength(1);
    expect(isColormap("jet")).toBe(false);
    expect(isColormap("#00ff00")).toBe(true);
    expect(isColormap("#00ff0")).toBe(false);
  });
});
