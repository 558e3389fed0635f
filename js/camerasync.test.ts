import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Camera, clampCenter, fitCamera, levelExtent, scaleFromZoom, zoomFromScale } from "./camera";
import { CameraSync, type CameraTrait, TRAIT_WRITE_MS } from "./camerasync";
import type { LevelInfo } from "./protocol";

const L0: LevelInfo = { shape: [400, 600], scale: [0.5, 0.5], offset: [0, 0], chunk: [128, 128] };
const SIZE = { height: 200, width: 300 };
const LIMITS: [number, number] = [1e-6, 1e6];

/**
 * A model like anywidget's: `set` fires `change:<name>` synchronously when the
 * value changes (by JSON), and the view's listener calls `changed`, adopting
 * what it returns. `kernel(...)` sets traits as a message from Python would.
 */
function setup(traits: Partial<Record<CameraTrait, unknown>>) {
  const state: Record<string, unknown> = { _fit_pending: false, ...traits };
  const saves: Record<string, unknown>[] = [];
  let camera: Camera | null = null;
  const adopted: (Camera | "fit")[] = [];
  let sync: CameraSync;
  const fire = (k: CameraTrait): void => {
    if (k === "_fit_pending") return;
    const next = sync.changed(k, camera);
    if (next === null) return;
    adopted.push(next);
    if (next !== "fit") camera = next;
  };
  const model = {
    get: (k: CameraTrait) => state[k],
    set: (k: CameraTrait, v: unknown) => {
      if (JSON.stringify(state[k]) === JSON.stringify(v)) return;
      state[k] = v;
      fire(k);
    },
    save_changes: () => saves.push({ ...state }),
  };
  sync = new CameraSync(
    model,
    () => camera,
    () => L0,
  );
  return {
    state,
    saves,
    sync,
    adopted,
    camera: () => camera,
    setCamera: (c: Camera) => (camera = c),
    kernel: (k: CameraTrait, v: unknown) => model.set(k, v),
  };
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
    expect(saves).toEqual([{ center: cam!.center, zoom: zoomFromScale(L0, cam!.scale), _fit_pending: false }]);
  });

  it("a provisional fit from the kernel is replaced by the fit to the real size", () => {
    // The kernel fitted the image to a default 800 px wide view.
    const provisional = fitCamera(L0, { height: SIZE.height, width: 800 });
    const { sync, saves, setCamera, adopted } = setup({
      center: provisional.center,
      zoom: zoomFromScale(L0, provisional.scale),
      _fit_pending: true,
    });
    const cam = sync.read(SIZE, LIMITS);
    expect(cam).toEqual(fitCamera(L0, SIZE));
    setCamera(cam!);
    vi.advanceTimersByTime(0);
    expect(saves).toEqual([{ center: cam!.center, zoom: zoomFromScale(L0, cam!.scale), _fit_pending: false }]);
    expect(adopted).toEqual([]); // our own write is not adopted back
    // Once written back, the traits are read as they are.
    expect(sync.read(SIZE, LIMITS)).toEqual(cam);
  });

  it("reads center and zoom when zoom > 0, and nothing before a size is known", () => {
    const { sync } = setup({ center: [10, 20], zoom: 2 });
    expect(sync.read({ height: 0, width: 300 }, LIMITS)).toBeNull();
    expect(sync.read(SIZE, LIMITS)).toEqual({ center: [10, 20], scale: scaleFromZoom(L0, 2) });
  });

  it("keeps a centre read from the traits on the image", () => {
    const { sync } = setup({ center: [-1e9, 1e9], zoom: 2 });
    const [y0, , , x1] = levelExtent(L0);
    expect(sync.read(SIZE, LIMITS)!.center).toEqual([y0, x1]);
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
    expect(saves).toEqual([{ center: [5, 5], zoom: zoomFromScale(L0, 0.25), _fit_pending: false }]);
  });

  it("ignores its own writes and adopts every value set from outside, even one it wrote before", () => {
    const { sync, state, setCamera, adopted, camera, kernel } = setup({ center: [0, 0], zoom: 1 });
    // The user zooms and pans: written, not adopted back.
    setCamera({ center: [10, 20], scale: 0.125 });
    sync.schedule();
    vi.advanceTimersByTime(TRAIT_WRITE_MS);
    expect(adopted).toEqual([]);
    const saved = { center: state.center, zoom: state.zoom };
    // Fit, written back.
    setCamera(fitCamera(L0, SIZE));
    sync.schedule();
    vi.advanceTimersByTime(TRAIT_WRITE_MS);
    expect(adopted).toEqual([]);
    // Python restores the saved camera (values this view wrote before): adopted.
    kernel("center", saved.center);
    kernel("zoom", saved.zoom);
    expect(camera()).toEqual({ center: [10, 20], scale: 0.125 });
    // Python sets new values: adopted, keeping the other half of the camera.
    kernel("center", [100, 200]);
    expect(camera()).toEqual({ center: [100, 200], scale: 0.125 });
    kernel("zoom", 3);
    expect(camera()).toEqual({ center: [100, 200], scale: scaleFromZoom(L0, 3) });
    kernel("zoom", 0);
    expect(adopted.at(-1)).toBe("fit");
  });

  it("keeps a centre set from outside on the image", () => {
    const { setCamera, camera, kernel } = setup({ center: [0, 0], zoom: 1 });
    setCamera({ center: [10, 20], scale: 0.125 });
    kernel("center", [5e5, -5e5]);
    expect(camera()!.center).toEqual(clampCenter([5e5, -5e5], L0));
    const [, x0, y1] = levelExtent(L0);
    expect(camera()!.center).toEqual([y1, x0]);
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
