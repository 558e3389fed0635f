import { describe, expect, it } from "vitest";
import { parseCodeSource, pyNumber, viewCode } from "./viewcode";

const CH = { range: [0, 255] as [number, number], histogram: [] };

describe("viewCode", () => {
  it("writes a Viewer call with the camera, position and channels", () => {
    const code = viewCode({
      source: { args: ["'/data/cells.ome.zarr'", "plane='xz'"], note: "" },
      center: [120.5, 33.25],
      zoom: 2,
      position: { y: 7, c: 0 },
      channelMode: "composite",
      colormap: "gray",
      invert: false,
      channels: [
        { ...CH, name: "nuclei", color: "#0000ff", contrast_limits: [10, 200], gamma: 1, visible: true },
        { ...CH, name: "membrane", color: "#ff00ff", contrast_limits: [0, 99.5], gamma: 0.8, visible: false },
      ],
    });
    expect(code).toBe(
      [
        "import simplezarr",
        "",
        "v = simplezarr.Viewer(",
        "    '/data/cells.ome.zarr',",
        "    plane='xz',",
        "    center=[120.5, 33.25],",
        "    zoom=2,",
        '    position={"y": 7, "c": 0},',
        '    channel_mode="composite",',
        ")",
        "v.channels[0].contrast_limits = [10, 200]",
        'v.channels[0].color = "#0000ff"',
        "v.channels[1].contrast_limits = [0, 99.5]",
        'v.channels[1].color = "#ff00ff"',
        "v.channels[1].gamma = 0.8",
        "v.channels[1].visible = False",
        "v",
        "",
      ].join("\n"),
    );
  });
  it("writes the colormap in single mode and a note for sources without a literal", () => {
    const code = viewCode(
      {
        source: parseCodeSource({ args: ["source"], note: "# source: the ndarray you viewed" }),
        center: null,
        zoom: null,
        position: {},
        channelMode: "single",
        colormap: "magma_r",
        invert: true,
        channels: [],
      },
      "viewer",
    );
    expect(code).toContain("# source: the ndarray you viewed\nviewer = simplezarr.Viewer(\n    source,\n");
    expect(code).toContain('    colormap="magma_r",\n    invert=True,\n');
    expect(code).not.toContain("center=");
  });
  it("parses a malformed _code_source to a placeholder", () => {
    for (const bad of [undefined, null, {}, { args: [] }, { args: [1] }, "x"]) {
      expect(parseCodeSource(bad).args).toEqual(["source"]);
    }
  });
  it("writes numbers Python reads back", () => {
    expect(pyNumber(0.1 + 0.2)).toBe("0.3");
    expect(pyNumber(1e21)).toBe("1e21");
    expect(pyNumber(-2.5e-7)).toBe("-2.5e-7");
    expect(pyNumber(3)).toBe("3");
  });
});
