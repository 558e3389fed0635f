/**
 * One view's link to the kernel: its view id and every custom message the
 * view sends or receives (the types are in {@link ./protocol}, which mirrors
 * `simplezarr/viewer/_protocol.py`).
 *
 * Out:
 *
 * - `ready` with a fresh random view id opens the view ({@link KernelLink.start});
 *   `close` ends it ({@link KernelLink.close});
 * - `viewport` goes out only when the camera, the size or the device pixel
 *   ratio changed since the last one sent ({@link viewportChanged}), each with
 *   the next `seq`; the render loop offers one per animation frame;
 * - `viewport` also carries the channels the view wants; a channel shown
 *   sends a new one at once even when the camera did not move (to ask for its
 *   tiles); a channel hidden sends nothing, and the next move's viewport no
 *   longer lists it;
 * - `viewport` also lists the other layers shown (each with its channels): a
 *   change of that list sends one at once;
 * - `probe` asks for the values under the cursor ({@link KernelLink.probe}):
 *   at most one is in flight; while it is, only the newest position waits
 *   (sent when layer 0's answer comes, or after {@link PROBE_TIMEOUT_MS});
 *   the kernel answers once per layer shown; answers to anything but the
 *   newest request are ignored;
 * - `histogram` asks for the channels' histograms again;
 * - {@link KernelLink.restart} is `close` + `ready` under a new id: the
 *   kernel, which believes the old view still holds its tiles, then sends
 *   everything again (after a lost WebGL context, or a new image).
 *
 * In (the `msg:custom` listener should be registered before {@link KernelLink.start},
 * so that no answer is missed):
 *
 * - every `tile` goes to the tile sink (the layer, which decodes its PNG into
 *   a texture), whichever view asked for it: any view may draw any tile, and
 *   only the view's own tiles are marked live;
 * - `tile_error`, `drop` and `status` are acted on only when they are for
 *   this view: a failed tile goes to the sink (drawn hatched, counted in the
 *   overlay); a status (one per layer) updates that layer's pending and
 *   failed counts, summed over the layers, and calls `onStatus` (the overlay).
 *
 * Test hooks written here (see {@link ./dom}): `data-ready`, `data-view`,
 * `data-seq`, `data-tiles-received`, `data-tiles-pending`, `data-tiles-failed`.
 */

import type { Camera, ViewSize } from "./camera";
import { sameCamera } from "./camera";
import type { Hooks } from "./dom";
import {
  type FrontendMessage,
  type LayerChannels,
  type ProbeMessage,
  type TileErrorMessage,
  type TileMessage,
  type Vec2,
  closeMessage,
  histogramRequest,
  parseKernelMessage,
  probeRequest,
  readyMessage,
  viewportMessage,
} from "./protocol";

/** A probe unanswered this long no longer holds back the next one. */
export const PROBE_TIMEOUT_MS = 2000;

/** Where received tiles go (the view's {@link TileLayer}). */
export interface TileSink {
  /** Store (decode) a tile; `mine` when this view asked for it. */
  receive(m: TileMessage, mine: boolean): void;
  /** A tile of this view could not be made (show it, and why). */
  fail(m: TileErrorMessage): void;
  /** Forget tiles the kernel dropped for this view. */
  drop(keys: readonly string[]): void;
}

/** What the last `viewport` message was computed from. */
export interface SentViewport {
  camera: Camera;
  size: ViewSize;
  dpr: number;
  channels: readonly number[];
  layers: readonly LayerChannels[];
}

/** What a {@link KernelLink} talks through. */
export interface LinkOptions {
  /** Send one message to the kernel (`model.send`). */
  send: (message: FrontendMessage) => void;
  /** Write test hooks on the view's root element. */
  hooks: (hooks: Hooks) => void;
  /** The tile layer, or null when the view cannot draw. */
  tiles: TileSink | null;
  /** Called after a `status` for this view changed {@link KernelLink.pending}. */
  onStatus: () => void;
  /** The answer to this view's newest `probe`. */
  onProbe?: (m: ProbeMessage) => void;
  /** Timers (tests pass fake ones). */
  now?: () => number;
}

/** A random view id (`crypto.randomUUID` where available). */
export function newViewId(): string {
  const c = globalThis.crypto;
  if (c !== undefined && typeof c.randomUUID === "function") return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Whether a viewport differs from the last one sent (always true before the first). */
export function viewportChanged(
  last: SentViewport | null,
  camera: Camera,
  size: ViewSize,
  dpr: number,
  channels: readonly number[] = [0],
  layers: readonly LayerChannels[] = [],
): boolean {
  return (
    last === null ||
    !sameCamera(last.camera, camera) ||
    last.size.width !== size.width ||
    last.size.height !== size.height ||
    last.dpr !== dpr ||
    // A channel shown asks for its tiles now; one hidden waits for the next move
    // (hiding sends nothing, and the kernel drops that channel's tiles then).
    channels.some((c) => !last.channels.includes(c)) ||
    JSON.stringify(layers) !== JSON.stringify(last.layers)
  );
}

export class KernelLink {
  private id = newViewId();
  private seq = 0;
  private lastSent: SentViewport | null = null;
  private tilesReceived = 0;
  private pendingTiles = 0;
  /** Per layer: [pending, failed] of its last status. */
  private statusByLayer = new Map<number, [number, number]>();
  private probeId = 0;
  private probeSentAt = -Infinity;
  private probeAnswered = true;
  private probeWaiting: Vec2 | null = null;

  constructor(private readonly options: LinkOptions) {}

  /** The current view id. */
  get view(): string {
    return this.id;
  }

  /** Tiles the kernel still means to send this view (its last `status`). */
  get pending(): number {
    return this.pendingTiles;
  }

  /** Say `ready` under the current view id. */
  start(): void {
    this.options.send(readyMessage(this.id));
    this.options.hooks({ ready: "1", view: this.id });
  }

  /** Handle one `msg:custom` from the kernel (anything else is ignored). */
  receive(msg: unknown, buffers: unknown[]): void {
    const m = parseKernelMessage(msg, buffers);
    if (m === null) return;
    const mine = m.view === this.id;
    switch (m.type) {
      case "tile":
        this.tilesReceived++;
        this.options.hooks({ tilesReceived: String(this.tilesReceived) });
        this.options.tiles?.receive(m, mine);
        break;
      case "tile_error":
        if (mine) {
          this.options.tiles?.fail(m);
          this.options.onStatus();
        }
        break;
      case "drop":
        if (mine) this.options.tiles?.drop(m.keys);
        break;
      case "status":
        if (mine) {
          this.statusByLayer.set(m.layer, [m.pending, m.failed]);
          let [pending, failed] = [0, 0];
          for (const [p, f] of this.statusByLayer.values()) [pending, failed] = [pending + p, failed + f];
          this.pendingTiles = pending;
          this.options.hooks({ tilesPending: String(pending), tilesFailed: String(failed) });
          this.options.onStatus();
        }
        break;
      case "probe":
        if (mine && m.id === this.probeId) {
          this.options.onProbe?.(m);
          if (m.layer !== 0 || this.probeAnswered) break;
          this.probeAnswered = true;
          const next = this.probeWaiting;
          this.probeWaiting = null;
          if (next !== null) this.probe(next);
        }
        break;
    }
  }

  /** Ask for the values at world point `world` (throttled: see the module docs). */
  probe(world: Vec2): void {
    const now = (this.options.now ?? (() => performance.now()))();
    if (!this.probeAnswered && now - this.probeSentAt < PROBE_TIMEOUT_MS) {
      this.probeWaiting = world;
      return;
    }
    this.probeId++;
    this.probeSentAt = now;
    this.probeAnswered = false;
    this.options.send(probeRequest(this.id, this.probeId, world));
  }

  /** Ask the kernel to compute the channels' histograms again. */
  requestHistogram(): void {
    this.options.send(histogramRequest(this.id));
  }

  /** Send a `viewport` message unless it would repeat the last one. */
  sendViewport(
    camera: Camera,
    size: ViewSize,
    dpr: number,
    channels: readonly number[] = [0],
    layers: readonly LayerChannels[] = [],
  ): void {
    if (!viewportChanged(this.lastSent, camera, size, dpr, channels, layers)) return;
    this.seq++;
    this.lastSent = { camera, size: { ...size }, dpr, channels: [...channels], layers: [...layers] };
    const hw: [number, number] = [size.height, size.width];
    this.options.send(viewportMessage(this.id, this.seq, camera.center, camera.scale, hw, dpr, channels, layers));
    this.options.hooks({ seq: String(this.seq) });
  }

  /**
   * Start afresh as a new view: `close`, then `ready` under a new id; the
   * next viewport is sent whatever it is. The caller forgets its tiles.
   */
  restart(): void {
    this.pendingTiles = 0;
    this.statusByLayer.clear();
    this.options.hooks({ tilesPending: "0", tilesFailed: "0" });
    this.options.send(closeMessage(this.id));
    this.id = newViewId();
    this.options.send(readyMessage(this.id));
    this.options.hooks({ view: this.id });
    this.lastSent = null;
    this.probeAnswered = true;
    this.probeWaiting = null;
  }

  /** Say `close` (the view goes away). */
  close(): void {
    this.options.send(closeMessage(this.id));
  }
}
