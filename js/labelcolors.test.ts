import { describe, expect, it } from "vitest";
import { MAX_LABEL_COLORS, hashColor, hashIndex, idBytes, labelColor, labelTable } from "./labelcolors";

describe("label colours", () => {
  it("carries ids in the label encoding's bytes", () => {
    for (const id of [0, 1, 255, 256, 65536, 2 ** 24 - 1, 2 ** 24 + 7, 2 ** 32 - 1]) {
      const [r, g, b, a] = idBytes(id);
      expect(r + 256 * g + 65536 * b + 2 ** 24 * (255 - a)).toBe(id);
    }
    expect(idBytes(7)[3]).toBe(255); // ids below 2^24 are opaque
  });

  it("never gives two consecutive ids the same hashed colour", () => {
    for (const start of [1, 1000, 123456, 2 ** 31, 2 ** 32 - 3000]) {
      for (let id = start; id < start + 2000; id++) {
        expect(hashIndex(id).hue).not.toBe(hashIndex(id + 1).hue);
        expect(hashColor(id)).not.toEqual(hashColor(id + 1));
      }
    }
  });

  it("is stable and uses the whole palette", () => {
    expect(hashColor(42)).toEqual(hashColor(42));
    const hues = new Set(Array.from({ length: 5000 }, (_, i) => hashIndex(i + 1).hue));
    expect(hues.size).toBe(64);
  });

  it("sorts the image-label table by id, drops repeats and bounds it", () => {
    const { data, count } = labelTable([
      [300, "#ff000080"],
      [2, "#00ff00ff"],
      [300, "#0000ffff"],
    ]);
    expect(count).toBe(2);
    expect([...data.slice(0, 8)]).toEqual([...idBytes(2), 0, 255, 0, 255]);
    expect([...data.slice(8, 16)]).toEqual([...idBytes(300), 255, 0, 0, 128]);
    const many = Array.from({ length: MAX_LABEL_COLORS + 10 }, (_, i): [number, string] => [i + 1, "#010203ff"]);
    expect(labelTable(many).count).toBe(MAX_LABEL_COLORS);
  });

  it("colours id 0 transparent, table ids by the table, the rest by the hash", () => {
    const table: [number, string][] = [[5, "#10203040"]];
    expect(labelColor(0, table)).toEqual([0, 0, 0, 0]);
    expect(labelColor(5, table)).toEqual([16, 32, 48, 64]);
    expect(labelColor(6, table)).toEqual([...hashColor(6), 255]);
  });
});
