import { describe, expect, it } from "vitest";
import { TileCache, type TileInfo, textureBytes } from "./tiles";

/** A fake texture: just a name, so that releases can be checked. */
type Tex = { name: string };

function info(key: string, shape: [number, number] = [4, 4]): TileInfo {
  return {
    layer: 0,
    key,
    level: 0,
    chunk: [0, 0],
    plane: "",
    channel: 0,
    bounds: [0, 0, shape[0], shape[1]],
    shape,
    encoding: "u8",
    value_offset: 0,
    value_scale: 1,
  };
}

function setup(maxTiles: number, maxBytes = Number.MAX_SAFE_INTEGER) {
  const released: string[] = [];
  const warnings: string[] = [];
  const cache = new TileCache<Tex>({
    maxTiles,
    maxBytes,
    release: (t) => released.push(t.name),
    warn: (m) => warnings.push(m),
  });
  const add = (key: string, live: boolean, shape?: [number, number]): void => {
    const g = cache.begin(info(key, shape), live);
    expect(cache.finish(key, g, { name: key })).toBe(true);
  };
  return { cache, released, warnings, add };
}

describe("TileCache", () => {
  it("stores a texture only after finish, and counts bytes", () => {
    const { cache } = setup(10);
    const g = cache.begin(info("a", [8, 16]), true);
    expect([...cache.ready()]).toEqual([]);
    expect(cache.bytes).toBe(0);
    cache.finish("a", g, { name: "a" });
    expect([...cache.ready()].map((e) => e.key)).toEqual(["a"]);
    expect(cache.bytes).toBe(textureBytes([8, 16]));
    expect(textureBytes([8, 16])).toBe(8 * 16 * 4);
  });

  it("evicts the least recently used evictable tile when over the tile budget", () => {
    const { cache, released, add } = setup(3);
    add("a", false);
    add("b", false);
    add("c", false);
    cache.touch("a"); // a is now the most recent
    add("d", false);
    expect(released).toEqual(["b"]);
    expect(cache.has("a")).toBe(true);
    expect(cache.has("b")).toBe(false);
    expect(cache.size).toBe(3);
  });

  it("never evicts live tiles under twice the budget; drop makes them evictable", () => {
    const { cache, released, add, warnings } = setup(2);
    add("a", true);
    add("b", true);
    add("c", true);
    add("d", true);
    expect(released).toEqual([]);
    expect(cache.size).toBe(4);
    expect(warnings).toEqual([]);
    cache.drop(["b", "c"]);
    // Over budget (4 > 2): the dropped tiles go, oldest first; the live ones stay.
    expect(released).toEqual(["b", "c"]);
    expect([...cache.ready()].map((e) => e.key)).toEqual(["a", "d"]);
  });

  it("keeps dropped tiles as long as the budget allows", () => {
    const { cache, released, add } = setup(10);
    add("a", true);
    cache.drop(["a", "not-there"]);
    expect(released).toEqual([]);
    expect(cache.get("a")?.live).toBe(false);
    expect(cache.get("a")?.texture).toEqual({ name: "a" });
  });

  it("evicts by texture bytes", () => {
    const budget = textureBytes([4, 4]) * 2;
    const { cache, released, add } = setup(100, budget);
    add("a", false);
    add("b", false);
    expect(released).toEqual([]);
    add("c", false);
    expect(released).toEqual(["a"]);
    expect(cache.bytes).toBeLessThanOrEqual(budget);
  });

  it("evicts live tiles, with one warning, past twice the budget", () => {
    const { cache, released, add, warnings } = setup(2);
    for (const k of ["a", "b", "c", "d", "e"]) add(k, true);
    expect(warnings).toHaveLength(1);
    expect(released).toEqual(["a", "b", "c"]);
    expect(cache.size).toBe(2);
  });

  it("releases a texture that finishes after its entry was deleted", () => {
    const { cache, released } = setup(10);
    const g = cache.begin(info("a"), true);
    cache.delete("a");
    expect(cache.finish("a", g, { name: "late" })).toBe(false);
    expect(released).toEqual(["late"]);
  });

  it("keeps the old texture of a re-sent tile until the new one is decoded", () => {
    const { cache, released, add } = setup(10);
    add("a", false);
    const g1 = cache.begin(info("a"), true);
    expect(cache.get("a")?.texture).toEqual({ name: "a" });
    expect(cache.get("a")?.live).toBe(true);
    const g2 = cache.begin(info("a"), true);
    // The first re-decode is superseded: its texture is released, not stored.
    expect(cache.finish("a", g1, { name: "a1" })).toBe(false);
    expect(cache.finish("a", g2, { name: "a2" })).toBe(true);
    expect(released).toEqual(["a1", "a"]);
    expect(cache.get("a")?.texture).toEqual({ name: "a2" });
    expect(cache.bytes).toBe(textureBytes([4, 4]));
  });

  it("forgets a tile whose decode failed, but keeps one that has a texture", () => {
    const { cache, add } = setup(10);
    const g = cache.begin(info("x"), true);
    cache.fail("x", g);
    expect(cache.has("x")).toBe(false);
    add("y", true);
    const g2 = cache.begin(info("y"), true);
    cache.fail("y", g2);
    expect(cache.get("y")?.texture).toEqual({ name: "y" });
  });

  it("tiles sent for another view do not become live through it", () => {
    const { cache, add } = setup(10);
    add("a", true);
    cache.begin(info("a"), false);
    expect(cache.get("a")?.live).toBe(true);
    add("b", false);
    expect(cache.get("b")?.live).toBe(false);
    expect(cache.liveCount).toBe(1);
  });

  it("clear releases every texture", () => {
    const { cache, released, add } = setup(10);
    add("a", true);
    add("b", false);
    cache.begin(info("pending"), true);
    cache.clear();
    expect(released.sort()).toEqual(["a", "b"]);
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });
});
