import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Camera, ViewSize } from "./camera";
import type { Hooks } from "./dom";
import { KernelLink, type SentViewport, type TileSink, newViewId, viewportChanged } from "./link";
import { type FrontendMessage, type TileMessage, closeMessage, readyMessage, viewportMessage } from "./protocol";

const CAM: Camera = { center: [100, 200], scale: 0.5 };
const SIZE: ViewSize = { height: 300, width: 400 };

function tile(view: string, key: string): Record<string, unknown> {
  return {
    type: "tile",
    view,
    layer: 0,
    key,
    level: 0,
    chunk: [0, 1],
    plane: "",
    channel: 0,
    bounds: [-0.5, 63.5, 63.5, 127.5],
    shape: [64, 64],
    encoding: "u8",
    value_offset: 0,
    value_scale: 1,
    seq: 1,
  };
}
const PNG = [new DataView(new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer)];

/** A link whose messages, hooks, tiles and status calls are recorded. */
function setup(withTiles = true) {
  const sent: FrontendMessage[] = [];
  const hooks: Hooks = {};
  const received: { key: string; mine: boolean }[] = [];
  const dropped: string[][] = [];
  const failed: { key: string; error: string }[] = [];
  let statusCalls = 0;
  const sink: TileSink = {
    receive: (m: TileMessage, mine: boolean) => received.push({ key: m.key, mine }),
    fail: (m) => failed.push({ key: m.key, error: m.error }),
    drop: (keys) => dropped.push([...keys]),
  };
  const link = new KernelLink({
    send: (m) => sent.push(m),
    hooks: (h) => Object.assign(hooks, h),
    tiles: withTiles ? sink : null,
    onStatus: () => statusCalls++,
  });
  return { link, sent, hooks, received, dropped, failed, statusCalls: () => statusCalls };
}

let warnings: unknown[][] = [];
beforeEach(() => {
  warnings = [];
  vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void warnings.push(args));
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("newViewId", () => {
  it("gives a new non-empty id each time", () => {
    const ids = new Set(Array.from({ length: 20 }, () => newViewId()));
    expect(ids.size).toBe(20);
    for (const id of ids) expect(id.length).toBeGreaterThan(0);
  });
});

describe("viewportChanged", () => {
  const last: SentViewport = { camera: CAM, size: SIZE, dpr: 2, channels: [0], layers: [] };

  it("is true before anything was sent", () => {
    expect(viewportChanged(null, CAM, SIZE, 2)).toBe(true);
  });

  it("is false for the same camera, size and dpr", () => {
    expect(viewportChanged(last, { center: [...CAM.center], scale: CAM.scale }, { ...SIZE }, 2)).toBe(false);
  });

  it("is true when any of camera, size or dpr changed", () => {
    expect(viewportChanged(last, { center: [CAM.center[0] + 1, CAM.center[1]], scale: CAM.scale }, SIZE, 2)).toBe(
      true,
    );
    expect(viewportChanged(last, { center: CAM.center, scale: CAM.scale * 2 }, SIZE, 2)).toBe(true);
    expect(viewportChanged(last, CAM, { height: SIZE.height, width: SIZE.width + 1 }, 2)).toBe(true);
    expect(viewportChanged(last, CAM, { height: SIZE.height + 1, width: SIZE.width }, 2)).toBe(true);
    expect(viewportChanged(last, CAM, SIZE, 1)).toBe(true);
  });
});

describe("KernelLink", () => {
  it("says ready under its view id and sets the ready hooks", () => {
    const { link, sent, hooks } = setup();
    link.start();
    expect(sent).toEqual([readyMessage(link.view)]);
    expect(hooks).toEqual({ ready: "1", view: link.view });
  });

  it("sends a viewport only when it changed, with a rising seq", () => {
    const { link, sent, hooks } = setup();
    link.sendViewport(CAM, SIZE, 1);
    link.sendViewport({ ...CAM }, { ...SIZE }, 1);
    link.sendViewport(CAM, SIZE, 2);
    expect(sent).toEqual([
      viewportMessage(link.view, 1, CAM.center, CAM.scale, [SIZE.height, SIZE.width], 1, [0]),
      viewportMessage(link.view, 2, CAM.center, CAM.scale, [SIZE.height, SIZE.width], 2, [0]),
    ]);
    expect(hooks.seq).toBe("2");
  });

  it("sends a viewport when a channel is shown, not when one is hidden", () => {
    const { link, sent } = setup();
    link.sendViewport(CAM, SIZE, 1, [0, 2]);
    link.sendViewport(CAM, SIZE, 1, [0, 2]);
    link.sendViewport(CAM, SIZE, 1, [0, 1, 2]); // shown: ask for its tiles
    link.sendViewport(CAM, SIZE, 1, [0, 2]); // hidden: nothing
    link.sendViewport({ ...CAM, scale: 0.25 }, SIZE, 1, [0, 2]); // the next move no longer lists it
    expect(sent.map((m) => (m.type === "viewport" ? m.channels : null))).toEqual([
      [0, 2],
      [0, 1, 2],
      [0, 2],
    ]);
  });

  it("keeps one probe in flight, sends the newest waiting one after the answer, ignores stale answers", () => {
    let now = 0;
    const probes: number[] = [];
    const sent: FrontendMessage[] = [];
    const link = new KernelLink({
      send: (m) => sent.push(m),
      hooks: () => {},
      tiles: null,
      onStatus: () => {},
      onProbe: (m) => probes.push(m.id),
      now: () => now,
    });
    link.probe([1, 1]);
    link.probe([2, 2]);
    link.probe([3, 3]);
    expect(sent).toEqual([{ type: "probe", view: link.view, id: 1, world: [1, 1] }]);
    const answer = (id: number) => ({
      type: "probe",
      view: link.view,
      layer: 0,
      id,
      world: [0, 0],
      index: [0, 0],
      values: [],
      properties: null,
    });
    link.receive(answer(1), []);
    expect(probes).toEqual([1]);
    expect(sent.at(-1)).toEqual({ type: "probe", view: link.view, id: 2, world: [3, 3] });
    link.receive(answer(1), []); // stale
    expect(probes).toEqual([1]);
    // An answer that never comes holds nothing back for long.
    now += 5000;
    link.probe([4, 4]);
    expect(sent.at(-1)).toEqual({ type: "probe", view: link.view, id: 3, world: [4, 4] });
  });

  it("keeps a copy of the size it sent", () => {
    const { link, sent } = setup();
    const size = { ...SIZE };
    link.sendViewport(CAM, size, 1);
    size.width += 10; // the view's size object changes in place: a new viewport
    link.sendViewport(CAM, size, 1);
    expect(sent.length).toBe(2);
  });

  it("hands every tile to the sink, marking only its own as mine", () => {
    const { link, hooks, received } = setup();
    link.receive(tile(link.view, "a"), PNG);
    link.receive(tile("other", "b"), PNG);
    expect(received).toEqual([
      { key: "a", mine: true },
      { key: "b", mine: false },
    ]);
    expect(hooks.tilesReceived).toBe("2");
  });

  it("counts tiles even when the view cannot draw", () => {
    const { link, hooks } = setup(false);
    link.receive(tile(link.view, "a"), PNG);
    expect(hooks.tilesReceived).toBe("1");
  });

  it("acts on drop and status only for its own view", () => {
    const { link, hooks, dropped, statusCalls } = setup();
    link.receive({ type: "drop", view: "other", keys: ["x"] }, []);
    link.receive({ type: "status", view: "other", layer: 0, pending: 7, failed: 0, level: 0, seq: 1 }, []);
    expect(dropped).toEqual([]);
    expect(link.pending).toBe(0);
    expect(statusCalls()).toBe(0);
    link.receive({ type: "drop", view: link.view, keys: ["x", "y"] }, []);
    link.receive({ type: "status", view: link.view, layer: 0, pending: 5, failed: 2, level: 1, seq: 1 }, []);
    expect(dropped).toEqual([["x", "y"]]);
    expect(link.pending).toBe(5);
    expect(hooks.tilesPending).toBe("5");
    expect(hooks.tilesFailed).toBe("2");
    expect(statusCalls()).toBe(1);
  });

  it("hands this view's failed tiles to the sink, and only this view's", () => {
    const { link, failed, statusCalls } = setup();
    const error = (view: string) => {
      const { shape: _s, encoding: _e, value_offset: _o, value_scale: _v, ...rest } = tile(view, "k");
      return { ...rest, type: "tile_error", error: "read timed out after 30 s" };
    };
    link.receive(error("other"), []);
    expect(failed).toEqual([]);
    link.receive(error(link.view), []);
    expect(failed).toEqual([{ key: "k", error: "read timed out after 30 s" }]);
    expect(statusCalls()).toBe(1);
  });

  it("ignores malformed messages (after a warning)", () => {
    const { link, sent, hooks, received } = setup();
    link.receive({ type: "tile", view: link.view }, []);
    link.receive(null, []);
    expect(received).toEqual([]);
    expect(sent).toEqual([]);
    expect(hooks).toEqual({});
    expect(warnings.length).toBe(2);
  });

  it("restarts as a new view: close, ready with a new id, viewport sent again", () => {
    const { link, sent, hooks, received } = setup();
    link.start();
    link.sendViewport(CAM, SIZE, 1);
    link.receive({ type: "status", view: link.view, layer: 0, pending: 3, failed: 0, level: 0, seq: 1 }, []);
    const old = link.view;
    sent.length = 0;
    link.restart();
    expect(link.view).not.toBe(old);
    expect(sent).toEqual([closeMessage(old), readyMessage(link.view)]);
    expect(hooks.view).toBe(link.view);
    expect(link.pending).toBe(0);
    link.sendViewport(CAM, SIZE, 1);
    expect(sent[2]).toEqual(viewportMessage(link.view, 2, CAM.center, CAM.scale, [SIZE.height, SIZE.width], 1, [0]));
    link.receive(tile(old, "a"), PNG);
    expect(received).toEqual([{ key: "a", mine: false }]);
  });

  it("says close under the current view id", () => {
    const { link, sent } = setup();
    link.close();
    expect(sent).toEqual([closeMessage(link.view)]);
  });
});

describe("KernelLink and layers", () => {
  it("sums the status of the layers and sends a viewport when the layers shown change", () => {
    const { link, sent, hooks } = setup();
    link.receive({ type: "status", view: link.view, layer: 0, pending: 3, failed: 1, level: 0, seq: 1 }, []);
    link.receive({ type: "status", view: link.view, layer: 2, pending: 4, failed: 0, level: 1, seq: 1 }, []);
    expect(link.pending).toBe(7);
    expect(hooks.tilesPending).toBe("7");
    expect(hooks.tilesFailed).toBe("1");
    link.sendViewport(CAM, SIZE, 1, [0], [{ layer: 2, channels: [0] }]);
    link.sendViewport(CAM, SIZE, 1, [0], [{ layer: 2, channels: [0] }]);
    link.sendViewport(CAM, SIZE, 1, [0], []);
    const viewports = sent.filter((m) => m.type === "viewport");
    expect(viewports.map((m) => (m.type === "viewport" ? m.layers : null))).toEqual([
      [{ layer: 2, channels: [0] }],
      [],
    ]);
  });
});
