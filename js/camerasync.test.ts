import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Camera, fitCamera, scaleFromZoom, zoomFromScale } from "./camera";
import { CameraSync, TRAIT_WRITE_MS } from "./camerasync";
import type { LevelInfo } from "./protocol";

const L0: LevelInfo = { shape: [400, 600], scale: [0.5, 0.5], offset: [0, 0], chunk: [128, 128] };
const SIZE = { height: 200, width: 300 };
const LIMITS: [number, number] = [1e-6, 1e6];

/** A model that fires nothing: the test calls `changed` as the view's listener would. */
function setup(traits: { center: unknown; zoom: unknown }) {
  const state: Record<string, unknown> = { ...traits };
  const saves: { center: unknown; zoom: unknown }[] = [];
  const model = {
    get: (k: "center" | "zoom") => state[k],
    set: (k: "center" | "zoom", v: unknown) => {
      state[k] = v;
    },
    save_changes: () => saves.push({ center: state.center, zoom: state.zoom }),
  };
  let camera: Camera | null = null;
  const sync = new CameraSync(
    model,
    () => camera,
    () => L0,
  );
  return { state, saves, sync, setCamera: (c: Camera) => (camera = c) };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("CameraSync", () => {
  it("zoom 0 means fit, and the fit is written back", () => {
    const { sync, saves, setCamera } = setup({ center: [0, 0], zoom: 0 });
    const cam = sync.read(SIZE, LIMITS);
    expect(cam).toEqual(fitCamera(L0, SIZE));
    setCamera(cam!);
    vi.advanceTimersByTime(0);
    expect(saves).toEqual([{ center: cam!.center, zoom: zoomFromScale(L0, cam!.scale) }]);
  });

  it("reads center and zoom when zoom > 0, and nothing before a size is known", () => {
    const { sync } = setup({ center: [10, 20], zoom: 2 });
    expect(sync.read({ height: 0, width: 300 }, LIMITS)).toBeNull();
    expect(sync.read(SIZE, LIMITS)).toEqual({ center: [10, 20], scale: scaleFromZoom(L0, 2) });
  });

  it("throttles writes and writes the newest camera", () => {
    const { sync, saves, setCamera } = setup({ center: [0, 0], zoom: 1 });
    for (let i = 1; i <= 5; i++) {
      setCamera({ center: [i, i], scale: 0.25 });
      sync.schedule();
      vi.advanceTimersByTime(TRAIT_WRITE_MS / 10);
    }
    expect(saves).toEqual([]);
    vi.advanceTimersByTime(TRAIT_WRITE_MS);
    expect(saves).toEqual([{ center: [5, 5], zoom: zoomFromScale(L0, 0.25) }]);
  });

  it("ignores echoes of its own writes, even late ones, and adopts foreign values", () => {
    const { sync, state, setCamera } = setup({ center: [0, 0], zoom: 1 });
    setCamera({ center: [1, 1], scale: 0.25 });
    sync.schedule();
    vi.advanceTimersByTime(TRAIT_WRITE_MS);
    const first = { center: state.center, zoom: state.zoom };
    const now: Camera = { center: [7, 7], scale: 0.125 };
    setCamera(now);
    sync.schedule();
    vi.advanceTimersByTime(TRAIT_WRITE_MS);
    // The kernel echoes the first write late: not adopted.
    state.center = first.center;
    state.zoom = first.zoom;
    expect(sync.changed("center", now)).toBeNull();
    expect(sync.changed("zoom", now)).toBeNull();
    // Python sets new values: adopted, keeping the other half of the camera.
    state.center = [100, 200];
    expect(sync.changed("center", now)).toEqual({ center: [100, 200], scale: now.scale });
    state.zoom = 3; // not a value this view wrote (it wrote 1 and 4)
    expect(sync.changed("zoom", now)).toEqual({ center: now.center, scale: scaleFromZoom(L0, 3) });
    state.zoom = 0;
    expect(sync.changed("zoom", now)).toBe("fit");
  });

  it("flush writes a pending camera at once; cancel drops it", () => {
    const { sync, saves, setCamera } = setup({ center: [0, 0], zoom: 1 });
    setCamera({ center: [3, 4], scale: 1 });
    sync.schedule();
    sync.flush();
    expect(saves).toHaveLength(1);
    sync.schedule();
    sync.cancel();
    vi.advanceTimersByTime(10 * TRAIT_WRITE_MS);
    expect(saves).toHaveLength(1);
  });
});
