"""The page side of ``bench_browser.py``: timing instruments injected into JupyterLab.

Everything the benchmark reads is timed *in the page* with ``performance.now()``
(one clock for input, frames and facts), by ``PAGE_JS``, installed once per
page as ``window.__szb``:

- **Facts.** ``arm(name, predicate, nextFrame)`` re-evaluates ``predicate``
  whenever the DOM changes (a ``MutationObserver`` on ``data-frames`` and
  ``data-ready`` of any element, and on added nodes; ``load`` events in the
  capture phase). When it first holds, ``done[name]`` gets the time: at once,
  or at the next ``requestAnimationFrame`` callback (``nextFrame``: the frame
  that paints what the fact describes; for an ``<img>`` after ``decode()``).
  The viewer writes ``data-frames`` last in each of its frames, so a fact read
  then is one frame's consistent state (see ``js/dom.ts`` for the hooks).
- **Input received.** ``pointermove``, ``wheel`` and ``keydown`` events whose
  target is ``target`` (set by ``reset(selector)``) are counted in the capture
  phase, with the first and last times.
- **Frame windows.** ``startWindow(rootSelector)`` starts a
  ``requestAnimationFrame`` loop recording each frame's time, and counts
  changes of the viewer's ``data-camera`` (written once per drawn frame: a
  changed value is a pointer move *handled*, i.e. shown); ``stopWindow()``
  returns them. Without a root the counter is the empty canvas's.
- **The empty canvas** (``emptyCanvas(x, y, w, h)``): a plain WebGL2
  ``<canvas>`` laid over the viewer's, the least any view can do per move: a
  drag moves an offset, and at most one draw per animation frame (a clear and
  one quad at that offset) shows it.
- **Planes** (``logPlanes(rootSelector)``): each time a new plane is drawn
  complete (a change of ``data-complete-plane``), with its time, for
  z-scrubbing.

Every record is bounded (``LIMIT`` entries); Python reads results with
``page.evaluate`` and waits with ``page.wait_for_function(..., timeout=)``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

__all__ = ["PAGE_JS", "arm", "pace", "pan", "wait_done"]

PAGE_JS = r"""
(() => {
  if (window.__szb) return;
  const LIMIT = 50000;
  const now = () => performance.now();
  const S = { done: {}, fails: {}, armed: [], obs: null, marks: {}, target: null,
              counts: {}, first: {}, last: {}, win: null, emptyDraws: 0, planes: null };
  window.__szb = S;

  const onEvent = (e) => {
    if (S.target === null || e.target !== S.target) return;
    const k = e.type, t = now();
    S.counts[k] = (S.counts[k] || 0) + 1;
    if (S.first[k] === undefined) S.first[k] = t;
    S.last[k] = t;
  };
  for (const type of ["pointermove", "wheel", "keydown"]) {
    document.addEventListener(type, onEvent, { capture: true, passive: true });
  }
  S.reset = (selector) => {
    S.target = selector ? document.querySelector(selector) : null;
    S.counts = {}; S.first = {}; S.last = {};
    return S.target !== null;
  };

  const remove = (a) => { S.armed = S.armed.filter((b) => b !== a); };
  const check = () => {
    for (const a of S.armed.slice()) {
      let v;
      try { v = a.pred(); } catch (err) { S.fails[a.name] = String(err); remove(a); continue; }
      if (!v) continue;
      remove(a);
      const finish = () => {
        if (a.nextFrame) requestAnimationFrame(() => { S.done[a.name] = now(); });
        else S.done[a.name] = now();
      };
      if (v instanceof HTMLImageElement) v.decode().then(finish, finish); else finish();
    }
    if (S.armed.length === 0 && S.obs !== null) { S.obs.disconnect(); S.obs = null; }
  };
  document.addEventListener("load", () => { if (S.armed.length) check(); }, true);
  S.arm = (name, pred, nextFrame) => {
    delete S.done[name]; delete S.fails[name];
    S.armed.push({ name, pred, nextFrame });
    if (S.obs === null) {
      S.obs = new MutationObserver(check);
      S.obs.observe(document.body, { subtree: true, childList: true, attributes: true,
                                     attributeFilter: ["data-frames", "data-ready"] });
    }
    check();
  };

  S.startWindow = (rootSelector) => {
    const w = { frames: [], cams: 0, on: true, obs: null, draws0: S.emptyDraws };
    const root = rootSelector ? document.querySelector(rootSelector) : null;
    if (root !== null) {
      let last = root.dataset.camera;
      w.obs = new MutationObserver(() => {
        const c = root.dataset.camera;
        if (c !== last) { last = c; w.cams++; }
      });
      w.obs.observe(root, { attributes: true, attributeFilter: ["data-camera"] });
    }
    const tick = () => {
      if (!w.on) return;
      if (w.frames.length < LIMIT) w.frames.push(now());
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    S.win = w;
  };
  S.stopWindow = () => {
    const w = S.win;
    w.on = false;
    if (w.obs !== null) w.obs.disconnect();
    S.win = null;
    return { frames: w.frames, handled: w.obs !== null ? w.cams : S.emptyDraws - w.draws0,
             moves: S.counts.pointermove || 0, first: S.first.pointermove ?? null,
             last: S.last.pointermove ?? null };
  };

  S.emptyCanvas = (x, y, w, h) => {
    const c = document.createElement("canvas");
    c.id = "szb-empty";
    Object.assign(c.style, { position: "fixed", left: `${x}px`, top: `${y}px`, width: `${w}px`,
                             height: `${h}px`, zIndex: "100000", touchAction: "none" });
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
    document.body.appendChild(c);
    const gl = c.getContext("webgl2", { preserveDrawingBuffer: true, antialias: false });
    const shader = (type, src) => {
      const s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s); return s;
    };
    const prog = gl.createProgram();
    gl.attachShader(prog, shader(gl.VERTEX_SHADER, `#version 300 es
      in vec2 p; uniform vec2 off; void main() { gl_Position = vec4(p * 0.5 + off, 0.0, 1.0); }`));
    gl.attachShader(prog, shader(gl.FRAGMENT_SHADER, `#version 300 es
      precision mediump float; out vec4 color;
      void main() { color = vec4(0.6, 0.6, 0.6, 1.0); }`));
    gl.linkProgram(prog);
    gl.useProgram(prog);
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const loc = gl.getAttribLocation(prog, "p");
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    const uOff = gl.getUniformLocation(prog, "off");
    let off = [0, 0], drawn = null, raf = 0, drag = null;
    const draw = () => {
      raf = 0;
      if (drawn !== null && drawn[0] === off[0] && drawn[1] === off[1]) return;
      gl.viewport(0, 0, c.width, c.height);
      gl.clearColor(0, 0, 0, 1); gl.clear(gl.COLOR_BUFFER_BIT);
      gl.uniform2f(uOff, (2 * off[0]) / w, (-2 * off[1]) / h);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      drawn = off.slice();
      S.emptyDraws++;
    };
    c.addEventListener("pointerdown", (e) => {
      drag = [e.clientX, e.clientY];
      try { c.setPointerCapture(e.pointerId); } catch (err) { /* dragging works without */ }
    });
    c.addEventListener("pointermove", (e) => {
      if (drag === null) return;
      off = [off[0] + e.clientX - drag[0], off[1] + e.clientY - drag[1]];
      drag = [e.clientX, e.clientY];
      if (raf === 0) raf = requestAnimationFrame(draw);
    });
    c.addEventListener("pointerup", () => { drag = null; });
    draw();
  };
  S.removeEmptyCanvas = () => { document.getElementById("szb-empty")?.remove(); };

  S.logPlanes = (rootSelector) => {
    const root = document.querySelector(rootSelector);
    const planes = [];
    // (bundles before data-complete-plane: the plane of a frame drawn complete)
    const drawnComplete = (d) => d.completePlane ?? (d.complete === "1" ? d.plane : undefined);
    let last = drawnComplete(root.dataset);
    const obs = new MutationObserver(() => {
      const p = drawnComplete(root.dataset);
      if (p !== undefined && p !== last && planes.length < LIMIT) {
        planes.push([p, now()]);
        last = p;
      }
    });
    obs.observe(root, { attributes: true, attributeFilter: ["data-frames"] });
    S.stopPlanes = () => { obs.disconnect(); return planes; };
  };
})();
"""


def arm(page: Any, name: str, predicate: str, *, next_frame: bool) -> None:
    """Time the first moment ``predicate`` (a JS function source) holds, as ``done[name]``."""
    page.evaluate(f"() => window.__szb.arm({name!r}, {predicate}, {str(next_frame).lower()})")


def wait_done(page: Any, name: str, timeout_ms: float) -> float:
    """Wait (at most ``timeout_ms``) until fact ``name`` is timed; its ``performance.now()``.

    Raises playwright's ``TimeoutError`` when it is not, or ``RuntimeError`` when
    the predicate threw in the page.
    """
    page.wait_for_function(
        f"() => window.__szb.done[{name!r}] !== undefined"
        f" || window.__szb.fails[{name!r}] !== undefined",
        timeout=timeout_ms,
    )
    fail = page.evaluate(f"() => window.__szb.fails[{name!r}] ?? null")
    if fail is not None:
        raise RuntimeError(f"wait_done(): the page's check {name!r} failed: {fail}")
    return float(page.evaluate(f"() => window.__szb.done[{name!r}]"))


def pace(deadline: float) -> None:
    """Hold the input's fixed rate: sleep until ``deadline`` (no burst when behind)."""
    delay = deadline - time.perf_counter()
    if delay > 0:
        time.sleep(delay)


def _drag(page: Any, box: dict[str, float], seconds: float, hz: float) -> float:
    """Drag in circles about the box's centre for ``seconds``, one turn a second.

    A move is sent every 1/``hz`` s along the circle, where the hand would be
    then; Chromium acknowledges each move when the page has taken it, so a
    busy page gets fewer (a real mouse's moves would queue and coalesce). The
    drag lasts ``seconds`` either way. Returns the moves sent per second.
    """
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    r = 0.2 * min(box["width"], box["height"])
    page.mouse.move(cx + r, cy)
    page.mouse.down()
    t0 = time.perf_counter()
    sent, elapsed = 0, 0.0
    while elapsed < seconds:
        a = 2 * math.pi * elapsed
        page.mouse.move(cx + r * math.cos(a), cy + r * math.sin(a))
        sent += 1
        pace(t0 + (math.floor((time.perf_counter() - t0) * hz) + 1) / hz)
        elapsed = time.perf_counter() - t0
    page.mouse.up()
    return sent / elapsed


def pan(
    page: Any, target: str, root: str | None, box: dict[str, float], *, seconds: float, hz: float
) -> dict[str, float]:
    """Frame rate, p95 frame time and moves shown per second while dragging ``target``."""
    if not page.evaluate("(s) => window.__szb.reset(s)", target):
        raise RuntimeError(f"pan(): no element {target!r} to drag")
    page.evaluate("(r) => window.__szb.startWindow(r)", root)
    sent = _drag(page, box, seconds, hz)
    w = page.evaluate("() => window.__szb.stopWindow()")
    if w["first"] is None or w["moves"] < 2:
        raise RuntimeError(f"pan(): {target!r} received {w['moves']} pointer moves")
    first, last = float(w["first"]), float(w["last"])
    times = [t for t in w["frames"] if first <= t <= last]
    if len(times) < 3:
        raise RuntimeError(f"pan(): {len(times)} frames during the drag of {target!r}")
    seconds = (last - first) / 1000
    out = {
        "fps": (len(times) - 1) / ((times[-1] - times[0]) / 1000),
        "p95": float(np.percentile(np.diff(times), 95)),
        "moves": w["handled"] / seconds,
    }
    print(
        f"   {target}: {out['fps']:.1f} fps, p95 {out['p95']:.1f} ms, {out['moves']:.1f} moves "
        f"shown/s; pointermove sent {sent:.1f}/s, received {w['moves'] / seconds:.1f}/s",
        flush=True,
    )
    return out
