/**
 * The viewport protocol between this front end and the kernel.
 *
 * KEEP IN SYNC with `simplezarr/viewer/_protocol.py` (the kernel side), which
 * says the same about this file. The contract is written down in
 * `docs/architecture.md` ("Viewport protocol"): message types, fields, tile
 * encodings and the traitlets of `Viewer`.
 *
 * Version {@link PROTOCOL_VERSION}: the kernel says its own in the
 * `protocol_version` trait; the view compares them before anything else and
 * shows a message instead of a canvas when they differ.
 *
 * Layers (version 3): every tile, failure, status and probe answer names its
 * `layer` (0: the base image); a viewport lists the other layers shown, each
 * with its channels; the `layers` trait ({@link parseLayers}) describes them.
 *
 * Front end -> kernel: `ready` (with the version), `viewport` (with the
 * channels wanted), `close`, `histogram` (recompute the channels'
 * histograms), `probe` (the values under the cursor) (JSON, no buffers).
 * Kernel -> front end: `tile` (one buffer: the PNG), `tile_error` (a tile
 * that could not be made, and why), `drop`, `status`, `probe` (the answer).
 *
 * The golden examples in `tests/protocol/golden.json` (made from the Python
 * declaration) are checked against this file by `protocol.golden.test.ts`.
 *
 * Everything the kernel sends passes through {@link parseKernelMessage} (and
 * the trait parsers below) before it is used: a malformed message is
 * rejected with a console warning and never throws into the render loop.
 *
 * The plane key ({@link planeKey}) names the position on the non-displayed
 * axes. Both sides compute it the same way: `name=index` for every entry of
 * the `sliders` trait, in that order, joined with `","`, where index is the
 * level-0 index from the `position` trait (0 when missing); the empty string
 * when there are no sliders. Example: `"t=0,c=1,z=3"`.
 *
 * This module touches neither the DOM nor WebGL.
 */

/** Pixel encoding of a tile's PNG (see docs/architecture.md); "label": exact 32-bit ids in RGBA. */
export type Encoding = "u8" | "u16" | "label";

/** [y, x] pair. */
export type Vec2 = [number, number];
/** [y0, x0, y1, x1] rectangle in world units (pixel edges). */
export type Rect = [number, number, number, number];

/** The protocol this front end speaks; must equal the kernel's `protocol_version` trait. */
export const PROTOCOL_VERSION = 3;

// --------------------------------------------------------------------------
// Front end -> kernel
// --------------------------------------------------------------------------

export interface ReadyMessage {
  type: "ready";
  view: string;
  version: number;
}

export interface ViewportMessage {
  type: "viewport";
  view: string;
  /** Increasing per view. */
  seq: number;
  /** [y, x] camera centre in world units. */
  center: Vec2;
  /** World units per CSS pixel. */
  scale: number;
  /** [height, width] in CSS pixels. */
  size: Vec2;
  /** window.devicePixelRatio. */
  dpr: number;
  /** The channels of the base image (layer 0) the view wants tiles of. */
  channels: number[];
  /** The other layers the view shows, each with the channels it wants of it. */
  layers: LayerChannels[];
}

/** One layer a viewport shows (not the base image) and its channels. */
export interface LayerChannels {
  layer: number;
  channels: number[];
}

export interface CloseMessage {
  type: "close";
  view: string;
}

/** Recompute the channels' histograms (answered through the `channels` trait). */
export interface HistogramRequest {
  type: "histogram";
  view: string;
}

/** The values under the cursor, at world point `world`; `id` increases per view. */
export interface ProbeRequest {
  type: "probe";
  view: string;
  id: number;
  world: Vec2;
}

export type FrontendMessage = ReadyMessage | ViewportMessage | CloseMessage | HistogramRequest | ProbeRequest;

export function readyMessage(view: string): ReadyMessage {
  return { type: "ready", view, version: PROTOCOL_VERSION };
}

export function viewportMessage(
  view: string,
  seq: number,
  center: Vec2,
  scale: number,
  size: Vec2,
  dpr: number,
  channels: readonly number[],
  layers: readonly LayerChannels[] = [],
): ViewportMessage {
  return {
    type: "viewport",
    view,
    seq,
    center: [center[0], center[1]],
    scale,
    size: [size[0], size[1]],
    dpr,
    channels: [...channels],
    layers: layers.map((l) => ({ layer: l.layer, channels: [...l.channels] })),
  };
}

export function closeMessage(view: string): CloseMessage {
  return { type: "close", view };
}

export function histogramRequest(view: string): HistogramRequest {
  return { type: "histogram", view };
}

export function probeRequest(view: string, id: number, world: Vec2): ProbeRequest {
  return { type: "probe", view, id, world: [world[0], world[1]] };
}

// --------------------------------------------------------------------------
// Kernel -> front end
// --------------------------------------------------------------------------

export interface TileMessage {
  type: "tile";
  /** The view that asked (informative: every view may use any tile). */
  view: string;
  /** The layer (0: the base image); `level` and `bounds` are that layer's. */
  layer: number;
  /** Unique per layer + level + chunk + plane + channel. */
  key: string;
  level: number;
  /** Chunk index along the two displayed axes [iy, ix]. */
  chunk: Vec2;
  /** Plane key of the non-displayed position (see {@link planeKey}). */
  plane: string;
  /** Channel index (0 when the image has no channel axis). */
  channel: number;
  /** World coordinates of the tile's outer pixel edges. */
  bounds: Rect;
  /** [h, w] pixels. */
  shape: Vec2;
  encoding: Encoding;
  /** data value = value_offset + value_scale * code */
  value_offset: number;
  value_scale: number;
  /** The viewport seq this tile answers. */
  seq: number;
  /** The PNG bytes. */
  png: Uint8Array;
}

/** Where a tile is: what a tile and a failed tile have in common. */
export type TilePlace = Pick<TileMessage, "layer" | "key" | "level" | "chunk" | "plane" | "channel" | "bounds">;

/** A tile's header as kept and drawn (the message without routing and pixels). */
export type TileHeader = Omit<TileMessage, "type" | "view" | "seq" | "png">;

/** A tile the kernel could not make: where it is, and why. */
export interface TileErrorMessage extends TilePlace {
  type: "tile_error";
  view: string;
  /** Short text for people, e.g. "read timed out after 30 s". */
  error: string;
  seq: number;
}

/** Longest `error` text kept (the kernel sends at most 200 characters). */
export const MAX_ERROR_TEXT = 200;

export interface DropMessage {
  type: "drop";
  view: string;
  keys: string[];
}

export interface StatusMessage {
  type: "status";
  view: string;
  /** The layer it counts. */
  layer: number;
  /** Tiles wanted but neither sent nor failed. */
  pending: number;
  /** Tiles wanted whose chunk failed (each announced by a `tile_error`). */
  failed: number;
  /** Level in use for that view. */
  level: number;
  seq: number;
}

/** One channel's value in a `probe` answer. */
export interface ProbeValue {
  channel: number;
  /** The value, or null when not finite (see `text`). */
  value: number | null;
  /** For people: "1234", "0.5312", "NaN", "-inf". */
  text: string;
}

/** The answer to a {@link ProbeRequest}: level-0 pixel and each wanted channel's value. */
export interface ProbeMessage {
  type: "probe";
  view: string;
  /** The layer whose values these are (one answer per layer shown). */
  layer: number;
  id: number;
  world: Vec2;
  /** Level-0 pixel [iy, ix] of that layer, or null outside it. */
  index: Vec2 | null;
  values: ProbeValue[];
  /** A label layer's `image-label` properties of the label under the cursor, or null. */
  properties: Record<string, string | number | boolean | null> | null;
}

export type KernelMessage = TileMessage | TileErrorMessage | DropMessage | StatusMessage | ProbeMessage;

/** Where rejections are reported; console.warn by default. */
export type Warn = (message: string) => void;

const defaultWarn: Warn = (message) => console.warn(`simplezarr: ${message}`);

// --------------------------------------------------------------------------
// Validation helpers
// --------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function isInt(v: unknown): v is number {
  return isFiniteNumber(v) && Number.isInteger(v);
}

function isNonNegInt(v: unknown): v is number {
  return isInt(v) && v >= 0;
}

function numbers(v: unknown, n: number, check: (x: unknown) => boolean): number[] | null {
  if (!Array.isArray(v) || v.length !== n) return null;
  for (const x of v) if (!check(x)) return null;
  return v as number[];
}

function vec2(v: unknown, check: (x: unknown) => boolean = isFiniteNumber): Vec2 | null {
  const a = numbers(v, 2, check);
  return a === null ? null : [a[0]!, a[1]!];
}

function show(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

function toBytes(buffer: unknown): Uint8Array | null {
  if (buffer instanceof DataView || ArrayBuffer.isView(buffer)) {
    const view = buffer as ArrayBufferView;
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  }
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  return null;
}

// --------------------------------------------------------------------------
// Kernel message parsing
// --------------------------------------------------------------------------

/**
 * Validate one custom message from the kernel.
 *
 * Returns the typed message, or `null` (after one warning) when the message
 * is malformed or of an unknown type. Never throws.
 */
export function parseKernelMessage(
  msg: unknown,
  buffers: readonly unknown[] | null | undefined,
  warn: Warn = defaultWarn,
): KernelMessage | null {
  try {
    return parseUnsafe(msg, buffers ?? [], warn);
  } catch (err) {
    warn(`parseKernelMessage(): unexpected error ${String(err)} for ${show(msg)}`);
    return null;
  }
}

/** The {@link TilePlace} fields of a `tile` or `tile_error`, or null after `reject`. */
function parsePlace(msg: Obj, reject: (why: string) => null): TilePlace | null {
  const { type, key, level, plane, channel, layer } = msg;
  if (typeof key !== "string" || key === "") return reject(`${type} key ${show(key)} is not a non-empty string`);
  if (!isNonNegInt(layer)) return reject(`${type} ${key}: layer ${show(layer)} is not an integer >= 0`);
  if (!isNonNegInt(level)) return reject(`${type} ${key}: level ${show(level)} is not an integer >= 0`);
  const chunk = vec2(msg.chunk, isNonNegInt);
  if (chunk === null) return reject(`${type} ${key}: chunk ${show(msg.chunk)} is not [iy, ix]`);
  if (typeof plane !== "string") return reject(`${type} ${key}: plane ${show(plane)} is not a string`);
  if (!isNonNegInt(channel)) return reject(`${type} ${key}: channel ${show(channel)} is not an integer >= 0`);
  const b = numbers(msg.bounds, 4, isFiniteNumber);
  if (b === null || !(b[2]! > b[0]!) || !(b[3]! > b[1]!)) {
    return reject(`${type} ${key}: bounds ${show(msg.bounds)} is not [y0, x0, y1, x1] with y1 > y0, x1 > x0`);
  }
  return { layer, key, level, chunk, plane, channel, bounds: [b[0]!, b[1]!, b[2]!, b[3]!] };
}

function parseUnsafe(msg: unknown, buffers: readonly unknown[], warn: Warn): KernelMessage | null {
  const reject = (why: string): null => {
    warn(`parseKernelMessage(): ${why}`);
    return null;
  };
  if (!isObject(msg)) return reject(`message is not an object: ${show(msg)}`);
  const type = msg.type;
  const view = msg.view;
  if (typeof view !== "string") return reject(`${show(type)} message has no string view: ${show(view)}`);
  switch (type) {
    case "tile": {
      const place = parsePlace(msg, reject);
      if (place === null) return null;
      const { key } = place;
      const { encoding, value_offset, value_scale, seq } = msg;
      const shape = vec2(msg.shape, (x) => isInt(x) && (x as number) > 0);
      if (shape === null) return reject(`tile ${key}: shape ${show(msg.shape)} is not [h, w] > 0`);
      if (encoding !== "u8" && encoding !== "u16" && encoding !== "label")
        return reject(`tile ${key}: encoding ${show(encoding)} is not "u8", "u16" or "label"`);
      if (!isFiniteNumber(value_offset))
        return reject(`tile ${key}: value_offset ${show(value_offset)} is not a finite number`);
      if (!isFiniteNumber(value_scale))
        return reject(`tile ${key}: value_scale ${show(value_scale)} is not a finite number`);
      if (!isInt(seq)) return reject(`tile ${key}: seq ${show(seq)} is not an integer`);
      const png = buffers.length > 0 ? toBytes(buffers[0]) : null;
      if (png === null || png.byteLength === 0)
        return reject(`tile ${key}: no PNG buffer (got ${buffers.length} buffers)`);
      return { type, view, ...place, shape, encoding, value_offset, value_scale, seq, png };
    }
    case "tile_error": {
      const place = parsePlace(msg, reject);
      if (place === null) return null;
      const { error, seq } = msg;
      if (typeof error !== "string") return reject(`tile_error ${place.key}: error ${show(error)} is not a string`);
      if (!isInt(seq)) return reject(`tile_error ${place.key}: seq ${show(seq)} is not an integer`);
      return { type, view, ...place, error: error.slice(0, MAX_ERROR_TEXT), seq };
    }
    case "drop": {
      const keys = msg.keys;
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
        return reject(`drop keys ${show(keys)} is not a list of strings`);
      }
      return { type, view, keys: keys as string[] };
    }
    case "status": {
      const { pending, failed, level, seq, layer } = msg;
      if (!isNonNegInt(layer)) return reject(`status layer ${show(layer)} is not an integer >= 0`);
      if (!isNonNegInt(pending)) return reject(`status pending ${show(pending)} is not an integer >= 0`);
      if (!isNonNegInt(failed)) return reject(`status failed ${show(failed)} is not an integer >= 0`);
      if (!isNonNegInt(level)) return reject(`status level ${show(level)} is not an integer >= 0`);
      if (!isInt(seq)) return reject(`status seq ${show(seq)} is not an integer`);
      return { type, view, layer, pending, failed, level, seq };
    }
    case "probe": {
      const { id, layer } = msg;
      if (!isNonNegInt(id)) return reject(`probe id ${show(id)} is not an integer >= 0`);
      if (!isNonNegInt(layer)) return reject(`probe ${id}: layer ${show(layer)} is not an integer >= 0`);
      const world = vec2(msg.world);
      if (world === null) return reject(`probe ${id}: world ${show(msg.world)} is not [y, x]`);
      const index = msg.index === null ? null : vec2(msg.index, isInt);
      if (index === null && msg.index !== null) return reject(`probe ${id}: index ${show(msg.index)} is not [iy, ix]`);
      if (!Array.isArray(msg.values)) return reject(`probe ${id}: values ${show(msg.values)} is not a list`);
      const values: ProbeValue[] = [];
      for (const v of msg.values) {
        if (!isObject(v) || !isNonNegInt(v.channel) || typeof v.text !== "string") {
          return reject(`probe ${id}: value ${show(v)} needs channel and text`);
        }
        if (v.value !== null && !isFiniteNumber(v.value)) return reject(`probe ${id}: value ${show(v.value)}`);
        values.push({ channel: v.channel, value: v.value, text: v.text.slice(0, 64) });
      }
      let properties: ProbeMessage["properties"] = null;
      if (isObject(msg.properties)) {
        properties = {};
        for (const [k, v] of Object.entries(msg.properties).slice(0, 16)) {
          const ok = v === null || typeof v === "boolean" || isFiniteNumber(v);
          properties[k.slice(0, 64)] = ok ? (v as number | boolean | null) : String(v).slice(0, 64);
        }
      } else if (msg.properties !== null && msg.properties !== undefined) {
        return reject(`probe ${id}: properties ${show(msg.properties)} is not an object or null`);
      }
      return { type, view, layer, id, world, index, values, properties };
    }
    default:
      return reject(`unknown message type ${show(type)}`);
  }
}

// --------------------------------------------------------------------------
// Traits
// --------------------------------------------------------------------------

/** One entry of the `levels` trait. */
export interface LevelInfo {
  /** [h, w] pixels. */
  shape: Vec2;
  /** [sy, sx] world units per pixel. */
  scale: Vec2;
  /** [oy, ox] world position of the centre of pixel (0, 0). */
  offset: Vec2;
  /** [ch, cw] chunk shape in pixels. */
  chunk: Vec2;
}

/** One entry of the `sliders` trait (a non-displayed axis, level 0). */
export interface SliderInfo {
  name: string;
  type: string;
  unit: string;
  size: number;
  scale: number;
  offset: number;
  /** Names of the indices, e.g. channel names; empty when the axis has none. */
  labels: string[];
}

/** Parse the `levels` trait; `[]` (after a warning) when malformed. */
export function parseLevels(v: unknown, warn: Warn = defaultWarn): LevelInfo[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) {
    warn(`parseLevels(): levels ${show(v)} is not a list`);
    return [];
  }
  const out: LevelInfo[] = [];
  for (const [i, entry] of v.entries()) {
    const e = isObject(entry) ? entry : {};
    const positive = (x: unknown): boolean => isFiniteNumber(x) && x > 0;
    const shape = vec2(e.shape, (x) => isInt(x) && (x as number) > 0);
    const scale = vec2(e.scale, positive);
    const offset = vec2(e.offset);
    const chunk = vec2(e.chunk, (x) => isInt(x) && (x as number) > 0);
    if (shape === null || scale === null || offset === null || chunk === null) {
      warn(`parseLevels(): level ${i} ${show(entry)} needs shape, scale > 0, offset and chunk`);
      return [];
    }
    out.push({ shape, scale, offset, chunk });
  }
  return out;
}

/** Parse the `sliders` trait; `[]` (after a warning) when malformed. */
export function parseSliders(v: unknown, warn: Warn = defaultWarn): SliderInfo[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) {
    warn(`parseSliders(): sliders ${show(v)} is not a list`);
    return [];
  }
  const out: SliderInfo[] = [];
  for (const [i, entry] of v.entries()) {
    if (!isObject(entry) || typeof entry.name !== "string" || !isInt(entry.size) || entry.size < 1) {
      warn(`parseSliders(): slider ${i} ${show(entry)} needs a name and a size >= 1`);
      return [];
    }
    out.push({
      name: entry.name,
      type: typeof entry.type === "string" ? entry.type : "",
      unit: typeof entry.unit === "string" ? entry.unit : "",
      size: entry.size,
      scale: isFiniteNumber(entry.scale) ? entry.scale : 1,
      offset: isFiniteNumber(entry.offset) ? entry.offset : 0,
      labels: Array.isArray(entry.labels) ? entry.labels.map((l) => String(l)) : [],
    });
  }
  return out;
}

/** Parse the `position` trait: only integer entries are kept. */
export function parsePosition(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!isObject(v)) return out;
  for (const [name, index] of Object.entries(v)) if (isInt(index)) out[name] = index;
  return out;
}

/** Level-0 index of every slider, clamped to its size (0 when missing). */
export function sliderIndices(sliders: readonly SliderInfo[], position: Record<string, number>): number[] {
  return sliders.map((s) => Math.min(Math.max(position[s.name] ?? 0, 0), s.size - 1));
}

/**
 * Which slider the step keys move: the one last moved by hand when it still
 * exists, else the first spatial one (z: what people scrub), else the first.
 */
export function stepTarget(sliders: readonly SliderInfo[], active: string | null): number {
  if (sliders.length === 0) return -1;
  const byHand = sliders.findIndex((s) => s.name === active);
  if (byHand >= 0) return byHand;
  const space = sliders.findIndex((s) => s.type === "space");
  return space >= 0 ? space : 0;
}

/**
 * The plane key: `name=index` of every slider in order, joined with ",".
 *
 * Must match `_protocol.py`: indices are level-0 indices from `position`,
 * clamped to the slider's range, 0 when missing; `""` without sliders.
 */
export function planeKey(sliders: readonly SliderInfo[], position: Record<string, number>): string {
  const idx = sliderIndices(sliders, position);
  return sliders.map((s, i) => `${s.name}=${idx[i]!}`).join(",");
}

/** Parse `contrast_limits`: [lo, hi] finite with lo <= hi, or null. */
export function parseContrast(v: unknown): Vec2 | null {
  const a = vec2(v);
  return a !== null && a[0] <= a[1] ? a : null;
}

/** One entry of the `channels` trait. */
export interface ChannelState {
  name: string;
  /** "#rrggbb". */
  color: string;
  contrast_limits: Vec2;
  gamma: number;
  visible: boolean;
  /** Data range the contrast can span. */
  range: Vec2;
  /** Counts in equal bins over `range` (a coarse level), or [] until computed. */
  histogram: number[];
}

const HEX = /^#[0-9a-f]{6}$/i;

/** Parse the `channels` trait; entries that are malformed are dropped after a warning. */
export function parseChannels(v: unknown, warn: Warn = defaultWarn): ChannelState[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) {
    warn(`parseChannels(): channels ${show(v)} is not a list`);
    return [];
  }
  const out: ChannelState[] = [];
  for (const [i, e] of v.entries()) {
    const limits = isObject(e) ? vec2(e.contrast_limits) : null;
    const range = isObject(e) ? vec2(e.range) : null;
    if (!isObject(e) || limits === null || range === null || typeof e.color !== "string" || !HEX.test(e.color)) {
      warn(`parseChannels(): channel ${i} ${show(e)} needs color "#rrggbb", contrast_limits and range`);
      return [];
    }
    const histogram = Array.isArray(e.histogram) && e.histogram.every(isNonNegInt) ? (e.histogram as number[]) : [];
    out.push({
      name: typeof e.name === "string" ? e.name : `${i}`,
      color: e.color.toLowerCase(),
      contrast_limits: limits,
      gamma: isFiniteNumber(e.gamma) && e.gamma > 0 ? e.gamma : 1,
      visible: e.visible !== false,
      range,
      histogram,
    });
  }
  return out;
}

/** Parse a [y, x] trait such as `center`. */
export function parseVec2(v: unknown): Vec2 | null {
  return vec2(v);
}

// --------------------------------------------------------------------------
// Layers
// --------------------------------------------------------------------------

/** What a layer is: an image (channels, composited), labels (exact ids), or computed. */
export type LayerKind = "image" | "labels" | "computed";

/** One entry of the `layers` trait, bottom to top. */
export interface LayerState {
  id: number;
  name: string;
  kind: LayerKind;
  visible: boolean;
  opacity: number;
  outline: boolean;
  /** The layer's own levels, in the base image's world units. */
  levels: LevelInfo[];
  /** `image-label` colours: [id, "#rrggbbaa"]. */
  colors: [number, string][];
  /** An added image layer's channels (layer 0's are the `channels` trait). */
  channels: ChannelState[];
}

const HEX8 = /^#[0-9a-f]{8}$/i;

/** Parse the `layers` trait; malformed entries are dropped after a warning. */
export function parseLayers(v: unknown, warn: Warn = defaultWarn): LayerState[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) {
    warn(`parseLayers(): layers ${show(v)} is not a list`);
    return [];
  }
  const out: LayerState[] = [];
  for (const e of v) {
    const kind = isObject(e) ? e.kind : undefined;
    if (!isObject(e) || !isNonNegInt(e.id) || (kind !== "image" && kind !== "labels" && kind !== "computed")) {
      warn(`parseLayers(): layer ${show(e)} needs an id and a kind`);
      continue;
    }
    const levels = parseLevels(e.levels, warn);
    const colors: [number, string][] = [];
    if (Array.isArray(e.colors)) {
      for (const c of e.colors) {
        if (Array.isArray(c) && isNonNegInt(c[0]) && typeof c[1] === "string" && HEX8.test(c[1])) {
          colors.push([c[0], c[1].toLowerCase()]);
        }
      }
    }
    const opacity = isFiniteNumber(e.opacity) ? Math.min(Math.max(e.opacity, 0), 1) : 1;
    out.push({
      id: e.id,
      name: typeof e.name === "string" ? e.name : `layer ${e.id}`,
      kind,
      visible: e.visible !== false,
      opacity,
      outline: e.outline === true,
      levels,
      colors,
      channels: parseChannels(e.channels ?? [], warn),
    });
  }
  return out;
}
