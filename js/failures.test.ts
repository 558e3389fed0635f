import { describe, expect, it } from "vitest";
import { FailedTiles, MAX_FAILED } from "./failures";

const tile = (key: string, error = "read timed out after 30 s", plane = "z=0", level = 0) => ({
  layer: 0,
  key,
  level,
  plane,
  channel: 0,
  bounds: [0, 0, 1, 1] as [number, number, number, number],
  error,
});

describe("FailedTiles", () => {
  it("says how many failed and the most common reason", () => {
    const f = new FailedTiles();
    expect(f.summary()).toBe("");
    f.add(tile("a"));
    expect(f.summary()).toBe("1 tile failed: read timed out after 30 s");
    f.add(tile("b", "OSError: HTTP 500"));
    f.add(tile("c", "OSError: HTTP 500"));
    expect(f.summary()).toBe("3 tiles failed: OSError: HTTP 500 (+1 other reason)");
  });

  it("forgets a tile that arrived or was dropped, and is bounded", () => {
    const f = new FailedTiles();
    f.add(tile("a"));
    f.add(tile("b", "x", "z=1"));
    f.add(tile("c", "x", "z=0", 1));
    expect(f.at("z=0", 0).map((t) => t.key)).toEqual(["a"]);
    expect(f.remove(["a", "nope"])).toBe(true);
    expect(f.remove(["nope"])).toBe(false);
    expect(f.size).toBe(2);
    for (let i = 0; i < MAX_FAILED + 10; i++) f.add(tile(`k${i}`));
    expect(f.size).toBe(MAX_FAILED);
    expect(f.at("z=1", 0)).toEqual([]); // the oldest went first
  });
});
