/**
 * The simplezarr viewer's anywidget entry point: `export default { render }`.
 *
 * One {@link ViewerView} per rendered view (a model may be shown in several
 * cells). It wires the pieces together and owns all state that is not pure:
 *
 * - builds its DOM and writes the test hooks ({@link ./dom});
 * - talks to the kernel through a {@link KernelLink} ({@link ./link}): says
 *   `ready` before anything else and `close` on cleanup, hands received
 *   tiles to the {@link TileLayer}, which decodes them into textures;
 * - turns input into a camera ({@link ./camera}), writes the `center` / `zoom`
 *   traits (throttled) and offers a `viewport` message once per animation
 *   frame (sent only when camera, size or dpr changed);
 * - draws on requestAnimationFrame only when something changed, in the order
 *   {@link planDraw} gives (coarse under fine, previous plane under the
 *   current one until it is covered);
 * - shows sliders, toolbar and the overlay; with the `show_tiles` trait, the
 *   drawn tiles' outlines and a legend of their levels ({@link ./outlines});
 *   with `show_chunks`, the chunk grid of the level in use coloured by the
 *   pool's chunk states ({@link ./chunkgrid}); with `show_stats`, the I/O
 *   panel of the `stats` trait ({@link ./iopanel});
 * - draws the `layers` bottom to top ({@link ./layersync}): the base image's
 *   channels, label layers and other images; the values under the cursor
 *   name each layer's (a label's id and properties).
 */

import type { AnyModel, RenderProps } from "@anywidget/types";
import {
  type Camera,
  type ViewSize,
  clampCenter,
  clampScale,
  fitCamera,
  panBy,
  pixelIndex,
  sameCamera,
  scaleLimits,
  screenToWorld,
  visibleRect,
  zoomAbout,
  zoomFromScale,
} from "./camera";
import { CameraSync } from "./camerasync";
import { ChannelSync } from "./channelsync";
import { ChunkGridOverlay, type ChunkStates, deviceMapping, parseChunkStates, planChunkGrid } from "./chunkgrid";
import { SliderPanel, createToolbar } from "./controls";
import { CodePopup, parseCodeSource, viewCode } from "./viewcode";
import { Minimap, parseOverview } from "./minimap";
import { Crosshair, crosshairAt, grabs, parseCrosshair } from "./crosshair";
import { INITIAL_HOOKS, buildViewDom, frameHooks, setHooks, showMessage } from "./dom";
import { formatPending, formatPosition, formatZoom, planeNames } from "./format";
import { attachInteraction } from "./interaction";
import { IoPanel } from "./iopanel";
import { type DrawLayer, TileLayer } from "./layer";
import { LayerSync } from "./layersync";
import { PlaneHold, PlanePacer } from "./planepacer";
import { KernelLink } from "./link";
import { cssColor, outlineColor } from "./outlines";
import { Overlay } from "./overlay";
import { ScaleBar, chooseScaleBar } from "./scalebar";
import {
  type LevelInfo,
  type SliderInfo,
  PROTOCOL_VERSION,
  type Vec2,
  isFiniteNumber,
  parseLevels,
  parsePosition,
  parseSliders,
  planeKey,
  sliderIndices,
  stepTarget,
} from "./protocol";
import type { Display } from "./renderer";

/** Traits of `simplezarr.Viewer` (see docs/architecture.md). */
interface Traits {
  levels: unknown;
  sliders: unknown;
  position: unknown;
  center: unknown;
  zoom: unknown;
  level: unknown;
  contrast_limits: unknown;
  colormap: unknown;
  gamma: unknown;
  unit: unknown;
  dtype: unknown;
  name: unknown;
  height: unknown;
  show_tiles: unknown;
  scale_bar: unknown;
  _fit_pending: unknown;
  channels: unknown;
  channel_mode: unknown;
  channel_axis: unknown;
  invert: unknown;
  nan_color: unknown;
  show_channels: unknown;
  protocol_version: unknown;
  layers: unknown;
  show_stats: unknown;
  show_chunks: unknown;
  stats: unknown;
  _chunk_states: unknown;
  crosshair: unknown;
  plane: unknown;
  _code_source: unknown;
  _overview: unknown;
  show_minimap: unknown;
}

type Model = AnyModel<Traits>;

const DEFAULT_HEIGHT = 500;

function warn(message: string): void {
  console.warn(`simplezarr: ${message}`);
}

class ViewerView {
  private readonly root: HTMLDivElement;
  private readonly stage: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly title: HTMLDivElement;
  private readonly overlay = new Overlay();
  private readonly scaleBar = new ScaleBar();
  private readonly ioPanel = new IoPanel();
  private readonly chunkGrid = new ChunkGridOverlay();
  /** The `_chunk_states` trait, parsed. */
  private chunkStates: ChunkStates = new Map();
  private readonly crosshair = new Crosshair();
  private readonly codePopup = new CodePopup();
  private readonly minimap = new Minimap((world) => this.centerOn(world));
  private readonly sliderPanel: SliderPanel;
  private readonly toolbar: ReturnType<typeof createToolbar>;
  private readonly layer: TileLayer | null = null;
  private readonly link: KernelLink;
  private readonly channelSync: ChannelSync;
  private readonly layerSync: LayerSync;
  /** The probe answers of the newest request, by layer. */
  private probedLayers = new Map<number, string>();
  private probedId = -1;
  private readonly cleanups: (() => void)[] = [];
  /** The last `probe` answer: the values under the cursor, for the overlay. */
  private probed = "";

  private levels: LevelInfo[] = [];
  private sliders: SliderInfo[] = [];
  private position: Record<string, number> = {};
  /** The slider last moved by hand: the step keys move it. */
  private activeSlider: string | null = null;
  private camera: Camera | null = null;
  private size: ViewSize = { height: 0, width: 0 };
  private dpr = 1;
  private readonly cameraSync: CameraSync;
  private raf = 0;
  private disposed = false;
  private hover: Vec2 | null = null;
  private frames = 0;
  private levelInUse = 0;
  /** Levels drawn in the last frame (the outline legend). */
  private levelsDrawn: number[] = [];
  /** The last frame drew the current plane complete (reset when the plane changes). */
  private planeComplete = false;
  private readonly planePacer = new PlanePacer(() => this.commitPosition());
  /** After a plane change, frames keep the plane on screen until the new one is complete. */
  private readonly planeHold = new PlaneHold(() => this.request());
  /** Camera, size and pixel ratio of the last drawn frame (a moved camera is never held). */
  private drawnView: { camera: Camera; size: ViewSize; dpr: number } | null = null;

  constructor(
    private readonly model: Model,
    host: HTMLElement,
  ) {
    this.cameraSync = new CameraSync(
      model,
      () => this.camera,
      () => this.levels[0],
    );
    this.toolbar = createToolbar({
      fit: () => this.fit(),
      zoomIn: () => this.zoomAtCenter(1.5),
      zoomOut: () => this.zoomAtCenter(1 / 1.5),
      toggleTiles: () => this.toggleTiles(),
      copyCode: () => this.copyCode(),
      toggleChunks: () => this.toggleTrait("show_chunks"),
      toggleStats: () => this.toggleTrait("show_stats"),
    });
    this.channelSync = new ChannelSync(
      model,
      (lut) => {
        if (lut) this.layer?.setColormap(this.colormap(), this.channelSync.invert());
        this.showSliders(); // the mode decides whether the channel axis has a slider
        this.request();
      },
      () => this.link.requestHistogram(),
    );
    this.layerSync = new LayerSync(model, () => this.request());
    this.channelSync.panel.addSection(this.layerSync.section.el);
    this.sliderPanel = new SliderPanel((name, index) => {
      this.activeSlider = name;
      this.setSlider(name, index);
    });
    ({ root: this.root, stage: this.stage, canvas: this.canvas, title: this.title } = buildViewDom(host, {
      overlay: this.overlay.el,
      scaleBar: this.scaleBar.el,
      crosshair: this.crosshair.el,
      code: this.codePopup.el,
      minimap: this.minimap.el,
      toolbar: this.toolbar.el,
      sliders: this.sliderPanel.el,
      channels: this.channelSync.panel.el,
      chunkGrid: this.chunkGrid.canvas,
      chunkLegend: this.chunkGrid.legend,
      ioPanel: this.ioPanel.el,
    }));

    try {
      this.layer = new TileLayer(this.canvas, (plane) => this.onTexture(plane), warn);
    } catch (err) {
      showMessage(this.stage, `simplezarr cannot draw here: ${String(err instanceof Error ? err.message : err)}`);
      warn(String(err));
    }

    // Kernel messages: registered before "ready" so that no answer is missed.
    this.link = new KernelLink({
      send: (message) => this.model.send(message),
      hooks: (hooks) => setHooks(this.root, hooks),
      tiles: this.layer,
      onStatus: () => this.updateOverlay(),
      onProbe: (m) => {
        if (m.id !== this.probedId) {
          this.probedId = m.id;
          this.probedLayers.clear();
        }
        let text: string;
        if (m.layer === 0 && this.layerSync.state()[0]?.kind !== "labels") {
          const names = this.channelSync.channelsState();
          // The channels shown now (one hidden since the kernel last heard of it is left out).
          const shown = new Set(this.channelSync.wanted());
          const values = m.values.filter((v) => shown.has(v.channel));
          const several = values.length > 1;
          text = values
            .map((v) => (several ? `${names[v.channel]?.name ?? v.channel} ${v.text}` : v.text))
            .join(" · ");
        } else {
          const value = m.values[0];
          const props = Object.entries(m.properties ?? {})
            .map(([k, v]) => `${k}: ${String(v)}`)
            .join(", ");
          text = value === undefined ? "" : `${this.layerSync.name(m.layer)} ${value.text}${props ? ` (${props})` : ""}`;
        }
        this.probedLayers.set(m.layer, text);
        const order = this.layerSync.state().map((l) => l.id);
        this.probed = [...this.probedLayers.entries()]
          .filter(([, t]) => t !== "")
          .sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]))
          .map(([, t]) => t)
          .join(" · ");
        this.updateOverlay();
      },
    });
    setHooks(this.root, INITIAL_HOOKS);
    const version = model.get("protocol_version");
    if (version !== PROTOCOL_VERSION) {
      // A kernel of another version: say so instead of drawing something wrong.
      showMessage(
        this.stage,
        `simplezarr: this page's viewer speaks protocol ${PROTOCOL_VERSION}, the kernel's speaks ` +
          `${JSON.stringify(version ?? "none")}. Restart the kernel and reload the page.`,
      );
      setHooks(this.root, { protocolMismatch: "1" });
      this.disposed = true;
      return;
    }
    this.listen("msg:custom", (msg: unknown, buffers: unknown[]) => this.link.receive(msg, buffers));
    this.link.start();
    this.channelSync.start();

    this.readLevels();
    this.readSliders();
    this.planeHold.start(); // the first plane too: drawn once complete (bounded, see PlaneHold)
    this.applyHeight();
    this.applyColormap();
    this.updateTitle();
    this.listen("change:levels", () => {
      this.readLevels();
      this.camera = null;
      this.restartView();
    });
    this.listen("change:sliders", () => this.readSliders());
    this.listen("change:position", () => this.readSliders());
    this.listen("change:center", () => this.onCameraTrait("center"));
    this.listen("change:zoom", () => this.onCameraTrait("zoom"));
    const channelTraits = [
      "channels",
      "channel_mode",
      "channel_axis",
      "colormap",
      "invert",
      "nan_color",
      "show_channels",
    ] as const;
    for (const name of channelTraits) {
      this.listen(`change:${name}`, () => this.channelSync.onTrait(name));
    }
    this.listen("change:layers", () => this.layerSync.onTrait());
    this.listen("change:unit", () => this.request());
    this.listen("change:name", () => this.updateTitle());
    this.listen("change:height", () => this.applyHeight());
    this.listen("change:show_tiles", () => this.applyShowTiles());
    this.listen("change:scale_bar", () => this.updateOverlay());
    this.listen("change:show_stats", () => this.applyShowStats());
    this.listen("change:stats", () => this.ioPanel.update(this.model.get("stats")));
    this.listen("change:show_chunks", () => this.applyShowChunks());
    this.listen("change:_chunk_states", () => {
      this.chunkStates = parseChunkStates(this.model.get("_chunk_states"));
      this.request();
    });
    this.listen("change:crosshair", () => this.updateOverlay());
    this.listen("change:_overview", () => this.updateOverlay());
    this.listen("change:show_minimap", () => this.updateOverlay());
    this.applyShowTiles();
    this.applyShowStats();
    this.applyShowChunks();
    this.ioPanel.update(this.model.get("stats"));
    this.chunkStates = parseChunkStates(this.model.get("_chunk_states"));

    this.cleanups.push(
      attachInteraction(this.canvas, {
        pan: (dy, dx) => this.setCamera(this.camera && panBy(this.camera, dy, dx)),
        zoom: (factor, anchor) => this.zoomAt(factor, anchor),
        fit: () => this.fit(),
        step: (delta) => this.stepSlider(delta),
        toggleTiles: () => this.toggleTiles(),
        hover: (at) => {
          this.hover = at;
          this.probe();
          this.updateOverlay();
        },
        grab: (at) => grabs(this.crossAt(), at),
        drag: (at) => this.moveCrosshair(at),
        click: (at) => this.moveCrosshair(at),
      }),
    );

    const resize = new ResizeObserver(() => this.measure());
    resize.observe(this.stage);
    this.cleanups.push(() => resize.disconnect());
    this.watchDpr();

    const onLost = (e: Event): void => {
      e.preventDefault();
      this.layer?.lose();
    };
    const onRestored = (): void => {
      if (this.disposed) return;
      this.layer?.restore(this.colormap(), this.channelSync.invert());
      this.restartView();
    };
    this.canvas.addEventListener("webglcontextlost", onLost);
    this.canvas.addEventListener("webglcontextrestored", onRestored);
    this.cleanups.push(() => {
      this.canvas.removeEventListener("webglcontextlost", onLost);
      this.canvas.removeEventListener("webglcontextrestored", onRestored);
    });

    this.measure();
  }

  // ------------------------------------------------------------------ model

  private listen(event: string, fn: (...args: never[]) => void): void {
    const handler = (...args: unknown[]): void => {
      if (this.disposed) return;
      try {
        (fn as (...a: unknown[]) => void)(...args);
      } catch (err) {
        warn(`${event} handler failed: ${String(err)}`);
      }
    };
    this.model.on(event, handler);
    this.cleanups.push(() => this.model.off(event as never, handler));
  }

  private readLevels(): void {
    this.levels = parseLevels(this.model.get("levels"));
  }

  private readSliders(): void {
    this.sliders = parseSliders(this.model.get("sliders"));
    this.position = parsePosition(this.model.get("position"));
    this.showSliders();
    this.channelSync.onTrait("position");
  }

  /**
   * Update the slider panel and the plane. The channel axis is no part of the
   * plane (channels are passes); in a composite it has no slider either.
   */
  private showSliders(plane = true): void {
    const axis = this.channelSync.channelAxis;
    const hide = this.channelSync.composite ? axis : null;
    this.sliderPanel.update(
      this.sliders.filter((s) => s.name !== hide),
      this.position,
    );
    if (!plane) return;
    this.setPlane(
      planeKey(
        this.sliders.filter((s) => s.name !== axis),
        this.position,
      ),
    );
  }

  private setPlane(plane: string): void {
    if (this.root.dataset.plane === plane) return;
    this.planeComplete = false;
    this.layer?.setPlane(plane);
    setHooks(this.root, { plane, complete: "0" });
    this.planeHold.start();
    this.request();
  }

  /** A slider moved by hand: shown at once, sent when the kernel keeps up ({@link PlanePacer}). */
  private setSlider(name: string, index: number): void {
    if (!Number.isInteger(index)) return;
    this.position = { ...this.position, [name]: index };
    this.showSliders(false);
    this.planePacer.want(this.planeComplete);
  }

  /** Send the position (the kernel serves its plane) and show that plane. */
  private commitPosition(): void {
    if (this.disposed) return;
    this.model.set("position", { ...this.position });
    this.model.save_changes();
    this.showSliders();
  }

  private stepSlider(delta: number): void {
    const i = stepTarget(this.sliders, this.activeSlider);
    const target = this.sliders[i];
    if (target === undefined) return;
    const index = sliderIndices(this.sliders, this.position)[i]!;
    const next = Math.min(Math.max(index + delta, 0), target.size - 1);
    if (next !== index) this.setSlider(target.name, next);
  }

  private applyHeight(): void {
    const h = this.model.get("height");
    const height = isFiniteNumber(h) && h > 0 ? h : DEFAULT_HEIGHT;
    this.stage.style.height = `${height}px`;
  }

  private colormap(): string {
    return this.channelSync.colormap();
  }

  private applyColormap(): void {
    this.layer?.setColormap(this.colormap(), this.channelSync.invert());
    this.request();
  }

  private showTiles(): boolean {
    return this.model.get("show_tiles") === true;
  }

  private applyShowTiles(): void {
    this.toolbar.setTiles(this.showTiles());
    this.request();
  }

  /** The toolbar toggle or the `t` key: write the trait (the change redraws). */
  private toggleTiles(): void {
    this.toggleTrait("show_tiles");
  }

  /** Flip a boolean trait from a toolbar toggle (its change event applies it). */
  private toggleTrait(name: "show_tiles" | "show_chunks" | "show_stats"): void {
    this.model.set(name, this.model.get(name) !== true);
    this.model.save_changes();
  }

  /** The toolbar's "Code": the view as Python, copied (and shown, to copy by hand if need be). */
  private copyCode(): void {
    if (this.codePopup.shown) {
      this.codePopup.hide();
      return;
    }
    const cam = this.camera;
    const l0 = this.levels[0];
    const code = viewCode({
      source: parseCodeSource(this.model.get("_code_source")),
      center: cam === null ? null : [cam.center[0], cam.center[1]],
      zoom: cam === null || l0 === undefined ? null : zoomFromScale(l0, cam.scale),
      position: Object.fromEntries(Object.entries(this.position).filter(([k]) => this.sliders.some((s) => s.name === k))),
      channelMode: this.channelSync.composite ? "composite" : "single",
      colormap: this.colormap(),
      invert: this.channelSync.invert(),
      channels: [...this.channelSync.channelsState()],
    });
    setHooks(this.root, { viewCode: code });
    const show = (copied: boolean): void => {
      if (!this.disposed) this.codePopup.show(code, copied);
    };
    const clipboard = typeof navigator !== "undefined" ? navigator.clipboard : undefined;
    if (clipboard === undefined) show(false);
    else clipboard.writeText(code).then(() => show(true), () => show(false));
  }

  private applyShowStats(): void {
    const on = this.model.get("show_stats") === true;
    this.toolbar.setStats(on);
    this.ioPanel.setVisible(on);
    setHooks(this.root, { showStats: on ? "1" : "0" });
  }

  private applyShowChunks(): void {
    this.toolbar.setChunks(this.model.get("show_chunks") === true);
    this.request();
  }

  /** The chunk grid of `level` (the level in use) over the image, or nothing. */
  private drawChunkGrid(level: number): void {
    const info = this.levels[level];
    const cam = this.camera;
    if (this.model.get("show_chunks") !== true || info === undefined || cam === null || level < 0) {
      this.chunkGrid.draw(null, 0, 0);
      setHooks(this.root, { showChunks: "0" });
      return;
    }
    const [w, h] = [this.canvas.width, this.canvas.height];
    const entries = this.chunkStates.get(level) ?? [];
    const toDevice = deviceMapping(cam, this.size, w, h);
    const plan = planChunkGrid(info, level, entries, visibleRect(cam, this.size), toDevice, w, h);
    const counts = this.chunkGrid.draw(plan, w, h);
    setHooks(this.root, { showChunks: "1", chunksLevel: String(level), chunks: JSON.stringify(counts) });
  }

  private updateTitle(): void {
    const name = this.model.get("name");
    this.title.textContent = typeof name === "string" ? name : "";
  }

  // ------------------------------------------------------------------ camera

  private limits(): [number, number] {
    return scaleLimits(this.levels, this.size);
  }

  /** Move the camera (kept in range); `write`: write it to the traits (throttled). */
  private setCamera(camera: Camera | null, write = true): void {
    if (camera === null || this.disposed) return;
    const scale = clampScale(camera.scale, this.limits());
    const l0 = this.levels[0];
    this.camera = { center: l0 === undefined ? camera.center : clampCenter(camera.center, l0), scale };
    if (write) this.cameraSync.schedule();
    this.request();
  }

  /** The minimap: centre the view on a world point, keeping the zoom. */
  private centerOn(world: Vec2): void {
    if (this.camera !== null) this.setCamera({ center: world, scale: this.camera.scale });
  }

  private zoomAt(factor: number, anchor: Vec2): void {
    if (this.camera === null) return;
    this.setCamera(zoomAbout(this.camera, this.size, factor, anchor, this.limits()));
  }

  private zoomAtCenter(factor: number): void {
    this.zoomAt(factor, [this.size.height / 2, this.size.width / 2]);
  }

  private fit(): void {
    const l0 = this.levels[0];
    if (l0 === undefined || this.size.width <= 0 || this.size.height <= 0) return;
    this.setCamera(fitCamera(l0, this.size));
  }

  /** Adopt a foreign change of the center or zoom trait (not an echo of our own writes). */
  private onCameraTrait(which: "center" | "zoom"): void {
    const next = this.cameraSync.changed(which, this.camera);
    if (next === "fit") {
      this.camera = null; // the next frame fits (zoom 0) or reads the traits, and writes back
      this.request();
    } else if (next !== null) {
      // Taken from the traits: written back only when keeping it in range changed it.
      // An unchanged write-back is an echo of the kernel's value that can land after a
      // newer one and undo it (a camera set twice from Python in quick succession).
      this.setCamera(next, false);
      if (this.camera === null || !sameCamera(this.camera, next)) this.cameraSync.schedule();
    }
  }

  // ------------------------------------------------------------------ size

  private measure(): void {
    const rect = this.stage.getBoundingClientRect();
    const size = { height: Math.max(0, rect.height), width: Math.max(0, rect.width) };
    const dpr = window.devicePixelRatio || 1;
    if (size.width === this.size.width && size.height === this.size.height && dpr === this.dpr) return;
    const old = this.size;
    const l0 = this.levels[0];
    this.size = size;
    this.dpr = dpr;
    if (old.width <= 0 || old.height <= 0) {
      this.camera = null; // (re)appeared: take the camera from the traits
    } else if (this.camera !== null && l0 !== undefined && sameCamera(this.camera, fitCamera(l0, old))) {
      this.setCamera(fitCamera(l0, size)); // a fitted image stays fitted as the cell resizes
    }
    this.request();
  }

  private watchDpr(): void {
    let media: MediaQueryList | null = null;
    const onChange = (): void => {
      media?.removeEventListener("change", onChange);
      this.measure();
      media = window.matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
      media.addEventListener("change", onChange);
    };
    onChange();
    this.cleanups.push(() => media?.removeEventListener("change", onChange));
  }

  // ------------------------------------------------------------------ kernel

  /**
   * Forget every tile and start afresh as a new view (close + ready with a
   * new id), so that the kernel, which believes the old view still holds
   * its tiles, sends everything again. Used after a lost WebGL context and
   * when the image (`levels`) changes.
   */
  private restartView(): void {
    this.layer?.clear();
    this.link.restart();
    this.request();
  }

  // ------------------------------------------------------------------ frames

  /** Ask for a frame (draw + viewport message) if none is scheduled. */
  private request(): void {
    if (this.raf === 0 && !this.disposed) this.raf = requestAnimationFrame(() => this.frame());
  }

  private frame(): void {
    this.raf = 0;
    if (this.disposed) return;
    try {
      this.camera ??= this.cameraSync.read(this.size, this.limits());
      if (this.camera !== null && this.layer !== null) {
        const base = this.layerSync.baseVisible() ? this.channelSync.wanted() : [];
        this.link.sendViewport(this.camera, this.size, this.dpr, base, this.layerSync.wanted());
      }
      if (!this.held()) this.draw();
    } catch (err) {
      warn(`frame failed: ${String(err)}`);
    }
    this.frames++;
    setHooks(this.root, { frames: String(this.frames) });
    this.updateOverlay();
    // A move that waited goes now, in the frame that drew its predecessor complete
    // (`completePlane` says so to pages and tests), not a frame later: with software
    // WebGL a frame holds the page for up to a few hundred ms.
    if (this.planeComplete) this.planePacer.complete();
  }

  /** A tile became drawable (its plane), or one failed (null: shown at once). */
  private onTexture(plane: string | null): void {
    if (plane === null) this.planeHold.end();
    else if (plane === this.layer?.currentPlane) this.planeHold.progress();
    this.request();
  }

  /** Whether this frame keeps the plane on screen ({@link PlaneHold}). */
  private held(): boolean {
    const last = this.drawnView;
    const cam = this.camera;
    // Nothing drawn yet (a view's first plane): nothing on screen moves.
    const moved =
      last !== null &&
      (cam === null ||
        !sameCamera(last.camera, cam) ||
        last.size.width !== this.size.width ||
        last.size.height !== this.size.height ||
        last.dpr !== this.dpr);
    return this.planeHold.skip(moved, () => this.layer?.complete(cam, this.size, this.dpr, this.drawLayers()) ?? true);
  }

  private drawLayers(): DrawLayer[] {
    const passes = this.channelSync.passes();
    return this.layerSync.drawLayers(passes, this.channelSync.composite, this.levels);
  }

  private draw(): void {
    if (this.layer === null) return;
    const passes = this.channelSync.passes();
    const composite = this.channelSync.composite;
    const outlines = this.showTiles();
    const layers = this.drawLayers();
    const stats = this.layer.draw(this.camera, this.size, this.dpr, layers, this.levels, outlines);
    this.drawnView = this.camera === null ? null : { camera: this.camera, size: { ...this.size }, dpr: this.dpr };
    this.planeHold.drawn();
    this.levelsDrawn = stats.levels;
    this.planeComplete = stats.complete;
    if (stats.complete) setHooks(this.root, { completePlane: this.layer.currentPlane });
    if (stats.level >= 0) this.levelInUse = stats.level;
    this.drawChunkGrid(stats.level);
    const first = passes[0]?.display ?? { lo: 0, hi: 1, gamma: 1 };
    setHooks(this.root, {
      ...frameHooks({
        stats,
        display: { lo: first.lo, hi: first.hi, gamma: first.gamma },
        colormap: composite ? "composite" : this.colormap(),
        outlines,
        camera: this.camera,
        size: this.size,
        tilesCached: this.layer.cache.size,
      }),
      passes: JSON.stringify(passes.map((p) => p.channel)),
      layers: JSON.stringify(layers.map((l) => l.id)),
    });
  }

  /** Ask the kernel for the values under the cursor (throttled in the link). */
  private probe(): void {
    const cam = this.camera;
    const l0 = this.levels[0];
    if (cam === null || l0 === undefined || this.hover === null) {
      this.probed = "";
      return;
    }
    this.link.probe(screenToWorld(cam, this.size, this.hover));
  }

  /** Where the crosshair crosses on screen, or null (none set, no camera yet). */
  private crossAt(): Vec2 | null {
    return crosshairAt(this.camera, this.size, parseCrosshair(this.model.get("crosshair")));
  }

  /** A click or drag in a view that has a crosshair moves it (the kernel moves the other views). */
  private moveCrosshair(at: Vec2): void {
    const cam = this.camera;
    if (cam === null || parseCrosshair(this.model.get("crosshair")) === null) return;
    const world = screenToWorld(cam, this.size, at);
    this.model.set("crosshair", [world[0], world[1]]);
    this.model.save_changes();
    this.updateOverlay();
  }

  private updateOverlay(): void {
    const cam = this.camera;
    const l0 = this.levels[0];
    const unitTrait = this.model.get("unit");
    const unit = typeof unitTrait === "string" ? unitTrait : "";
    // Shown unless the `scale_bar` trait is false (an older kernel has no such trait).
    this.scaleBar.update(cam === null ? null : chooseScaleBar(cam.scale, unit), this.model.get("scale_bar") !== false);
    this.crosshair.update(this.crossAt(), this.size);
    this.minimap.update(parseOverview(this.model.get("_overview")), cam, this.size, this.model.get("show_minimap") !== false);
    let cursor = "";
    let pixel = "";
    if (cam !== null && l0 !== undefined && this.hover !== null) {
      const world = screenToWorld(cam, this.size, this.hover);
      cursor = formatPosition(world, cam.scale, unit, planeNames(this.model.get("plane")));
      const [iy, ix] = pixelIndex(l0, world);
      if (iy >= 0 && ix >= 0 && iy < l0.shape[0] && ix < l0.shape[1]) pixel = `px ${iy}, ${ix}`;
    }
    this.overlay.update({
      level: this.levelInUse,
      levels: this.levels.length,
      zoom: cam !== null && l0 !== undefined ? formatZoom(zoomFromScale(l0, cam.scale)) : "",
      cursor,
      pixel,
      values: this.hover === null ? "" : this.probed,
      pending: formatPending(this.link.pending),
      failed: this.layer?.failures.summary() ?? "",
      legend: this.showTiles()
        ? this.levelsDrawn.map((level) => ({ level, color: cssColor(outlineColor(level)) }))
        : [],
    });
  }

  // ------------------------------------------------------------------ cleanup

  dispose(): void {
    if (this.disposed) return;
    try {
      this.cameraSync.flush();
    } catch (err) {
      warn(`final trait write failed: ${String(err)}`);
    }
    this.cameraSync.cancel();
    if (this.planePacer.holding) {
      // A slider move still waiting for its turn is the user's last word: write it.
      this.model.set("position", { ...this.position });
      this.model.save_changes();
    }
    this.planePacer.dispose();
    this.planeHold.dispose();
    this.disposed = true;
    try {
      this.link.close();
    } catch (err) {
      warn(`close message failed: ${String(err)}`);
    }
    if (this.raf !== 0) cancelAnimationFrame(this.raf);
    for (const fn of this.cleanups.splice(0)) fn();
    this.toolbar.dispose();
    this.sliderPanel.dispose();
    this.overlay.dispose();
    this.scaleBar.dispose();
    this.ioPanel.dispose();
    this.chunkGrid.dispose();
    this.crosshair.dispose();
    this.codePopup.dispose();
    this.minimap.dispose();
    this.channelSync.dispose();
    this.layerSync.dispose();
    this.layer?.dispose();
    this.root.remove();
  }
}

function render({ model, el }: RenderProps<Traits>): () => void {
  const view = new ViewerView(model, el);
  return () => view.dispose();
}

export default { render };
