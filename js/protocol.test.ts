import { describe, expect, it } from "vitest";
import {
  type ProbeMessage,
  type SliderInfo,
  type TileMessage,
  closeMessage,
  parseLayers,
  parseContrast,
  parseKernelMessage,
  parseLevels,
  parsePosition,
  parseSliders,
  planeKey,
  stepTarget,
  PROTOCOL_VERSION,
  readyMessage,
  viewportMessage,
} from "./protocol";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

function tile(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "tile",
    view: "v1",
    layer: 0,
    key: "0/1/2/z=3/0",
    level: 0,
    chunk: [1, 2],
    plane: "z=3",
    channel: 0,
    bounds: [-0.5, 63.5, 63.5, 127.5],
    shape: [64, 64],
    encoding: "u16",
    value_offset: 0,
    value_scale: 1,
    seq: 4,
    ...overrides,
  };
}

/** Parse and collect warnings. */
function parse(msg: unknown, buffers: unknown[] = [new DataView(PNG.buffer)]) {
  const warnings: string[] = [];
  const result = parseKernelMessage(msg, buffers, (m) => warnings.push(m));
  return { result, warnings };
}

describe("parseKernelMessage", () => {
  it("accepts a valid tile and exposes the PNG bytes of the DataView", () => {
    const { result, warnings } = parse(tile());
    expect(warnings).toEqual([]);
    expect(result?.type).toBe("tile");
    if (result?.type !== "tile") throw new Error("not a tile");
    expect([...result.png]).toEqual([...PNG]);
    expect(result.bounds).toEqual(tile().bounds);
    expect(result.chunk).toEqual([1, 2]);
  });

  it("reads a DataView that is a window into a larger buffer", () => {
    const big = new Uint8Array(16);
    big.set(PNG, 5);
    const { result } = parse(tile(), [new DataView(big.buffer, 5, PNG.length)]);
    if (result?.type !== "tile") throw new Error("not a tile");
    expect([...result.png]).toEqual([...PNG]);
  });

  it("accepts drop and status messages", () => {
    expect(parse({ type: "drop", view: "v", keys: ["a", "b"] }, []).result).toEqual({
      type: "drop",
      view: "v",
      keys: ["a", "b"],
    });
    expect(parse({ type: "status", view: "v", layer: 0, pending: 3, failed: 1, level: 1, seq: 9 }, []).result).toEqual({
      type: "status",
      view: "v",
      layer: 0,
      pending: 3,
      failed: 1,
      level: 1,
      seq: 9,
    });
  });

  const malformed: [string, unknown, unknown[]?][] = [
    ["null", null],
    ["an array", [1, 2]],
    ["a string", "tile"],
    ["unknown type", { type: "nope", view: "v" }],
    ["no view", { ...tile(), view: undefined }],
    ["empty key", tile({ key: "" })],
    ["negative level", tile({ level: -1 })],
    ["fractional level", tile({ level: 0.5 })],
    ["chunk of one", tile({ chunk: [1] })],
    ["non-string plane", tile({ plane: 3 })],
    ["inverted bounds", tile({ bounds: [10, 0, 0, 10] })],
    ["NaN in bounds", tile({ bounds: [0, 0, Number.NaN, 10] })],
    ["zero shape", tile({ shape: [0, 64] })],
    ["unknown encoding", tile({ encoding: "f32" })],
    ["infinite value_scale", tile({ value_scale: Infinity })],
    ["string seq", tile({ seq: "4" })],
    ["no buffer", tile(), []],
    ["empty buffer", tile(), [new DataView(new ArrayBuffer(0))]],
    ["buffer that is not bytes", tile(), ["png"]],
    ["drop keys not a list", { type: "drop", view: "v", keys: "a" }],
    ["drop keys not strings", { type: "drop", view: "v", keys: [1] }],
    ["status pending negative", { type: "status", view: "v", pending: -1, failed: 0, level: 0, seq: 1 }],
    ["status without failed", { type: "status", view: "v", pending: 1, level: 0, seq: 1 }],
    ["tile_error without error", { type: "tile_error", view: "v", key: "k", level: 0, chunk: [0, 0], plane: "", bounds: [0, 0, 1, 1], seq: 1 }],
  ];
  for (const [name, msg, buffers] of malformed) {
    it(`rejects ${name} with one warning, without throwing`, () => {
      const { result, warnings } = parse(msg, buffers ?? [new DataView(PNG.buffer)]);
      expect(result).toBeNull();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^parseKernelMessage\(\)/);
    });
  }

  it("survives a message whose fields throw when read", () => {
    const evil = Object.defineProperty({ type: "tile" }, "view", {
      get() {
        throw new Error("boom");
      },
    });
    const { result, warnings } = parse(evil);
    expect(result).toBeNull();
    expect(warnings[0]).toContain("boom");
  });
});

describe("front-end messages", () => {
  it("carry exactly the documented fields", () => {
    expect(readyMessage("v")).toEqual({ type: "ready", view: "v", version: PROTOCOL_VERSION });
    expect(closeMessage("v")).toEqual({ type: "close", view: "v" });
    const center: [number, number] = [1, 2];
    const m = viewportMessage("v", 3, center, 0.5, [400, 600], 2, [0, 2]);
    expect(m).toEqual({
      type: "viewport",
      view: "v",
      seq: 3,
      center: [1, 2],
      scale: 0.5,
      size: [400, 600],
      dpr: 2,
      channels: [0, 2],
      layers: [],
    });
    center[0] = 99;
    expect(m.center[0]).toBe(1); // copied, not aliased
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });
});

const SLIDERS: SliderInfo[] = [
  { name: "t", type: "time", unit: "second", size: 5, scale: 2, offset: 0, labels: [] },
  { name: "c", type: "channel", unit: "", size: 3, scale: 1, offset: 0, labels: ["a", "b", "c"] },
  { name: "z", type: "space", unit: "micrometer", size: 64, scale: 0.5, offset: 0, labels: [] },
];

describe("stepTarget", () => {
  it("steps the slider last moved by hand, else z, else the first", () => {
    expect(stepTarget(SLIDERS, "c")).toBe(1);
    expect(stepTarget(SLIDERS, null)).toBe(2); // z: the first spatial slider
    expect(stepTarget(SLIDERS, "gone")).toBe(2);
    expect(stepTarget(SLIDERS.slice(0, 2), null)).toBe(0);
    expect(stepTarget([], "z")).toBe(-1);
  });
});

describe("planeKey", () => {
  it("joins name=index in slider order", () => {
    expect(planeKey(SLIDERS, { z: 3, t: 0, c: 1 })).toBe("t=0,c=1,z=3");
  });
  it("is empty without sliders", () => {
    expect(planeKey([], { z: 3 })).toBe("");
  });
  it("uses 0 for missing axes and clamps to the axis range", () => {
    expect(planeKey(SLIDERS, { z: 99, t: -4 })).toBe(`t=0,c=0,z=${SLIDERS[2]!.size - 1}`);
  });
});

describe("trait parsers", () => {
  const level = { shape: [100, 200], scale: [1, 1], offset: [0, 0], chunk: [64, 64] };
  it("parses levels and rejects malformed ones with a warning", () => {
    expect(parseLevels([level])).toEqual([level]);
    const warnings: string[] = [];
    expect(parseLevels([level, { ...level, scale: [0, 1] }], (m) => warnings.push(m))).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(parseLevels(undefined)).toEqual([]);
  });
  it("parses sliders, defaulting missing unit/type/scale/offset", () => {
    expect(parseSliders([{ name: "z", size: 4, unit: null }])).toEqual([
      { name: "z", type: "", unit: "", size: 4, scale: 1, offset: 0, labels: [] },
    ]);
    expect(parseSliders([{ name: "c", type: "channel", size: 2, labels: ["dna", 7] }])[0]!.labels).toEqual([
      "dna",
      "7",
    ]);
    const warnings: string[] = [];
    expect(parseSliders([{ name: "z", size: 0 }], (m) => warnings.push(m))).toEqual([]);
    expect(warnings).toHaveLength(1);
  });
  it("keeps only integer positions", () => {
    expect(parsePosition({ z: 3, t: 1.5, c: "2" })).toEqual({ z: 3 });
    expect(parsePosition(null)).toEqual({});
  });
  it("accepts contrast limits lo <= hi only", () => {
    expect(parseContrast([10, 20])).toEqual([10, 20]);
    expect(parseContrast([20, 10])).toBeNull();
    expect(parseContrast([0, Number.NaN])).toBeNull();
  });
});

describe("layers", () => {
  it("parses the layers trait and drops malformed entries", () => {
    const warnings: string[] = [];
    const layers = parseLayers(
      [
        { id: 0, name: "img", kind: "image", visible: true, opacity: 1, outline: false, levels: [], colors: [] },
        {
          id: 1, name: "cells", kind: "labels", visible: false, opacity: 3, outline: true,
          levels: [{ shape: [4, 4], scale: [1, 1], offset: [0, 0], chunk: [4, 4] }],
          colors: [[5, "#FF0000FF"], [6, "red"], ["x", "#00000000"]],
        },
        { id: -1, kind: "image" },
        { id: 2, kind: "volume" },
      ],
      (w) => warnings.push(w),
    );
    expect(layers.map((l) => [l.id, l.kind, l.visible, l.opacity, l.outline])).toEqual([
      [0, "image", true, 1, false],
      [1, "labels", false, 1, true],
    ]);
    expect(layers[1]!.colors).toEqual([[5, "#ff0000ff"]]);
    expect(layers[1]!.levels).toHaveLength(1);
    expect(warnings).toHaveLength(2);
  });

  it("accepts label tiles and probe answers with properties", () => {
    const m = parse(tile({ layer: 2, key: "2:0/1/2/z=3/0", encoding: "label" }), [PNG]).result as TileMessage;
    expect([m.layer, m.encoding]).toEqual([2, "label"]);
    const probe = parse(
      {
        type: "probe", view: "v", layer: 1, id: 3, world: [0, 0], index: [0, 0],
        values: [{ channel: 0, value: 7, text: "7" }], properties: { area: 12, kind: { nested: 1 } },
      },
      [],
    ).result as ProbeMessage;
    expect(probe.properties).toEqual({ area: 12, kind: "[object Object]" });
    expect(parse(tile({ layer: -1 }), [PNG]).result).toBeNull();
  });
});
