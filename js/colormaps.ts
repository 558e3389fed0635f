/**
 * Colormaps as 256-entry RGBA lookup tables (uploaded once as a 256 x 1
 * texture; the shader maps the contrast-scaled value t in [0, 1] to entry
 * round(255 t)).
 *
 * `gray`, `viridis`, `magma`, `inferno`, `plasma`, `cividis`, `turbo`, any of
 * them reversed with `_r` (`viridis_r`), a single colour name (`red`,
 * `green`, `blue`, `cyan`, `magenta`, `yellow`, `white`) or `#rrggbb` for a
 * ramp from black to that colour. Anything else falls back to gray with a
 * warning. `invert` reverses the table too (an `_r` map inverted is the map).
 * Must accept exactly what `Viewer.colormap` accepts in Python.
 *
 * The viridis / magma / inferno / plasma tables are the published 256-entry
 * tables (Stéfan van der Walt and Nathaniel J. Smith, CC0), cividis is Jamie
 * Nuñez's (CC0) and turbo Google's (Apache-2.0), as RGB bytes in base64,
 * generated with matplotlib 3.11:
 *
 *     cmap = matplotlib.colormaps[name]
 *     rgb = (cmap(np.linspace(0, 1, 256))[:, :3] * 255 + 0.5).astype(np.uint8)
 *     base64.b64encode(rgb.tobytes())
 *
 * The tables live in `simplezarr/viewer/colormaps.json` (bundled by esbuild),
 * which the kernel's renderer reads as well.
 *
 * Pure functions: no DOM, no WebGL.
 */

import colormapTables from "../simplezarr/viewer/colormaps.json";

export const NAMED_COLORMAPS = ["gray", "viridis", "magma", "inferno", "plasma", "cividis", "turbo"] as const;
export type ColormapName = (typeof NAMED_COLORMAPS)[number];

/** Single-colour ramps by name. */
export const COLOR_NAMES: Record<string, string> = {
  red: "#ff0000",
  green: "#00ff00",
  blue: "#0000ff",
  cyan: "#00ffff",
  magenta: "#ff00ff",
  yellow: "#ffff00",
  white: "#ffffff",
};

/**
 * The published tables, RGB bytes in base64, from the one file the kernel's
 * renderer (simplezarr/viewer/_colormaps.py) reads too: one source of truth.
 */
const TABLES: Record<Exclude<ColormapName, "gray">, string> = colormapTables.tables;

function decodeBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Parse "#rrggbb" (case-insensitive) to [r, g, b], or null. */
export function parseHexColor(text: string): [number, number, number] | null {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(text.trim());
  if (m === null) return null;
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

/** Whether `name` is a colormap this module knows. */
export function isColormap(name: unknown): name is string {
  if (typeof name !== "string") return false;
  const base = name.trim().toLowerCase().replace(/_r$/, "");
  return (NAMED_COLORMAPS as readonly string[]).includes(base) || base in COLOR_NAMES || parseHexColor(base) !== null;
}

/** Linear ramp from black to `rgb`, 256 RGBA entries. */
function ramp(rgb: [number, number, number]): Uint8Array {
  const lut = new Uint8Array(256 * 4);
  for (let i = 0; i < 256; i++) {
    lut[4 * i] = Math.round((rgb[0] * i) / 255);
    lut[4 * i + 1] = Math.round((rgb[1] * i) / 255);
    lut[4 * i + 2] = Math.round((rgb[2] * i) / 255);
    lut[4 * i + 3] = 255;
  }
  return lut;
}

/** The table read backwards (entry i is entry 255 - i). */
function reverse(lut: Uint8Array): Uint8Array {
  const out = new Uint8Array(lut.length);
  for (let i = 0; i < 256; i++) out.set(lut.subarray(4 * (255 - i), 4 * (256 - i)), 4 * i);
  return out;
}

const cache = new Map<string, Uint8Array>();

/**
 * The 256 x RGBA lookup table of a colormap (1024 bytes).
 *
 * Unknown names give gray after a warning.
 */
export function colormapLUT(
  name: string,
  warn: (m: string) => void = (m) => console.warn(`simplezarr: ${m}`),
  invert = false,
): Uint8Array {
  let key = name.trim().toLowerCase();
  let reversed = invert;
  if (key.endsWith("_r")) {
    key = key.slice(0, -2);
    reversed = !reversed;
  }
  key = COLOR_NAMES[key] ?? key;
  const cacheKey = `${key}${reversed ? "_r" : ""}`;
  const hit = cache.get(cacheKey);
  if (hit !== undefined) return hit;
  let lut: Uint8Array;
  if (key === "gray" || key === "grey") {
    lut = ramp([255, 255, 255]);
  } else if (key in TABLES) {
    const rgb = decodeBase64(TABLES[key as keyof typeof TABLES]);
    lut = new Uint8Array(256 * 4);
    for (let i = 0; i < 256; i++) {
      lut[4 * i] = rgb[3 * i]!;
      lut[4 * i + 1] = rgb[3 * i + 1]!;
      lut[4 * i + 2] = rgb[3 * i + 2]!;
      lut[4 * i + 3] = 255;
    }
  } else {
    const rgb = parseHexColor(key);
    if (rgb === null) {
      warn(`colormapLUT(): unknown colormap ${JSON.stringify(name)}; using gray`);
      return colormapLUT("gray", warn);
    }
    lut = ramp(rgb);
  }
  if (reversed) lut = reverse(lut);
  cache.set(cacheKey, lut);
  return lut;
}
