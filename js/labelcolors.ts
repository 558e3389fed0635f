/**
 * Label colours: a stable colour per label id, and the `image-label` colour table.
 *
 * Ids travel exactly (the `label` encoding: R = bits 0-7, G = 8-15, B =
 * 16-23, A = 255 - bits 24-31, see docs/architecture.md). The colour of an
 * id is, in this order:
 *
 * - transparent for id 0 (the background);
 * - its `image-label` colour when the metadata gives one (looked up in a
 *   table sorted by id, {@link labelTable}; at most {@link MAX_LABEL_COLORS}
 *   entries, found by binary search in the shader);
 * - else a hashed palette colour ({@link hashColor}): `h = id * 2654435761`
 *   (Knuth's multiplicative hash, mod 2^32) picks one of 64 hues by its top 6
 *   bits, with saturation and value from the next two bits. Consecutive ids
 *   (neighbouring cells of most segmentations) differ in `h` by 0.618 of the
 *   circle, so their hues are 39 or 40 of 64 steps apart: never the same
 *   colour, by construction.
 *
 * The same arithmetic runs in the label shader (js/labels.ts); this module
 * is its reference, tested without WebGL.
 */

/** Most `image-label` colours a layer's table holds (WebGL2 textures are at least 2048 tall). */
export const MAX_LABEL_COLORS = 2048;

/** Knuth's multiplicative hash constant (the golden ratio of 2^32). */
export const LABEL_HASH = 2654435761;

/** The id bytes of a label as its tile carries them: [R, G, B, A]. */
export function idBytes(id: number): [number, number, number, number] {
  return [id & 255, (id >>> 8) & 255, (id >>> 16) & 255, 255 - ((id >>> 24) & 255)];
}

/** HSV (each 0..1) to RGB bytes, as the shader computes it. */
function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const k = (n: number): number => (n + h * 6) % 6;
  const f = (n: number): number => v - v * s * Math.max(0, Math.min(k(n), 4 - k(n), 1));
  return [Math.round(f(5) * 255), Math.round(f(3) * 255), Math.round(f(1) * 255)];
}

/** The palette index (0..63) and the two shade bits of an id. */
export function hashIndex(id: number): { hue: number; shade: number } {
  const h = Math.imul(id >>> 0, LABEL_HASH) >>> 0;
  return { hue: h >>> 26, shade: (h >>> 24) & 3 };
}

/** The hashed colour of a label id (RGB bytes); see the module docs. */
export function hashColor(id: number): [number, number, number] {
  const { hue, shade } = hashIndex(id);
  return hsvToRgb(hue / 64, 0.55 + 0.15 * (shade & 1), 1.0 - 0.15 * (shade >> 1));
}

/** Parse "#rrggbbaa" into bytes. */
function rgba(hex: string): [number, number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/**
 * The colour table of a label layer: 2 x N RGBA8 texels (row i: the id's
 * bytes, then its colour), sorted by id, at most {@link MAX_LABEL_COLORS}
 * rows; later duplicates of an id are left out.
 */
export function labelTable(colors: readonly [number, string][]): { data: Uint8Array; count: number } {
  const seen = new Set<number>();
  const rows = colors
    .filter(([id]) => Number.isInteger(id) && id >= 0 && id < 2 ** 32 && !seen.has(id) && seen.add(id) !== null)
    .slice(0, MAX_LABEL_COLORS)
    .sort((a, b) => a[0] - b[0]);
  const data = new Uint8Array(Math.max(1, rows.length) * 8);
  rows.forEach(([id, hex], i) => {
    data.set(idBytes(id), 8 * i);
    data.set(rgba(hex), 8 * i + 4);
  });
  return { data, count: rows.length };
}

/** The colour of a label id, [r, g, b, a] bytes (a = 0: transparent), as the shader draws it. */
export function labelColor(id: number, table: readonly [number, string][]): [number, number, number, number] {
  if (id === 0) return [0, 0, 0, 0];
  const hit = table.find(([k]) => k === id);
  if (hit !== undefined) return rgba(hit[1]);
  return [...hashColor(id), 255];
}
