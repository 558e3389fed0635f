/**
 * The viewer's CSS, injected once per view inside its root element. Every
 * selector is scoped under `.simplezarr-viewer`. Colours of the panel follow
 * JupyterLab's theme variables (with fallbacks outside JupyterLab); the
 * canvas area is always dark, as image viewers are.
 */

export const CSS = `
.simplezarr-viewer {
  --sz-font: var(--jp-ui-font-family, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  --sz-fg: var(--jp-ui-font-color1, #1f2328);
  --sz-fg2: var(--jp-ui-font-color2, #57606a);
  --sz-accent: var(--jp-brand-color1, #1976d2);
  font-family: var(--sz-font);
  font-size: 12px;
  color: var(--sz-fg);
  width: 100%;
  box-sizing: border-box;
}
.simplezarr-viewer *, .simplezarr-viewer *::before, .simplezarr-viewer *::after { box-sizing: border-box; }
.simplezarr-viewer .sz-stage {
  position: relative;
  width: 100%;
  overflow: hidden;
  border-radius: 4px;
  background: #1c1c1f;
}
.simplezarr-viewer .sz-canvas {
  display: block;
  width: 100%;
  height: 100%;
  touch-action: none;
  cursor: grab;
  outline: none;
}
.simplezarr-viewer .sz-canvas.sz-dragging { cursor: grabbing; }
.simplezarr-viewer .sz-stage:focus-within { box-shadow: 0 0 0 2px var(--sz-accent); }
.simplezarr-viewer .sz-overlay {
  position: absolute;
  left: 8px;
  bottom: 8px;
  padding: 4px 8px;
  border-radius: 4px;
  background: rgba(20, 20, 22, 0.72);
  color: #e8e8ea;
  font: 11px/1.45 var(--sz-font);
  font-variant-numeric: tabular-nums;
  pointer-events: none;
  user-select: none;
  white-space: nowrap;
}
.simplezarr-viewer .sz-overlay:not(:has(.sz-overlay-line:not([hidden]))) { display: none; }
.simplezarr-viewer .sz-overlay-line[hidden] { display: none; }
.simplezarr-viewer .sz-overlay-pending { color: #ffd479; }
.simplezarr-viewer .sz-overlay-failed { color: #ff8080; }
.simplezarr-viewer .sz-legend { display: flex; flex-wrap: wrap; gap: 2px 10px; }
.simplezarr-viewer .sz-legend-item { display: inline-flex; align-items: center; gap: 5px; }
.simplezarr-viewer .sz-legend-swatch {
  width: 10px;
  height: 10px;
  border: 2px solid;
  border-radius: 1px;
}
.simplezarr-viewer .sz-title {
  position: absolute;
  left: 8px;
  top: 8px;
  max-width: calc(100% - 140px);
  padding: 3px 8px;
  border-radius: 4px;
  background: rgba(20, 20, 22, 0.72);
  color: #e8e8ea;
  font: 11px/1.45 var(--sz-font);
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
  pointer-events: none;
}
.simplezarr-viewer .sz-title:empty { display: none; }
.simplezarr-viewer .sz-scalebar {
  position: absolute;
  right: 12px;
  bottom: 10px;
  display: flex;
  flex-direction: column;
  align-items: flex-end;
  gap: 2px;
  pointer-events: none;
  user-select: none;
}
.simplezarr-viewer .sz-scalebar[hidden] { display: none; }
.simplezarr-viewer .sz-scalebar-label {
  color: #f4f4f6;
  font: 11px/1.2 var(--sz-font);
  font-variant-numeric: tabular-nums;
  text-shadow: 0 0 3px #000, 0 0 2px #000;
}
.simplezarr-viewer .sz-scalebar-bar {
  height: 4px;
  background: #f4f4f6;
  box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.7);
}
.simplezarr-viewer .sz-crosshair {
  position: absolute;
  inset: 0;
  overflow: hidden;
  pointer-events: none;
}
.simplezarr-viewer .sz-crosshair[hidden] { display: none; }
.simplezarr-viewer .sz-crosshair-h,
.simplezarr-viewer .sz-crosshair-v {
  position: absolute;
  background: rgba(255, 214, 10, 0.85);
  box-shadow: 0 0 0 0.5px rgba(0, 0, 0, 0.6);
}
.simplezarr-viewer .sz-crosshair-h { left: 0; right: 0; top: 0; height: 1px; }
.simplezarr-viewer .sz-crosshair-v { top: 0; bottom: 0; left: 0; width: 1px; }
.simplezarr-viewer .sz-minimap {
  position: absolute;
  right: 12px;
  bottom: 42px;
  overflow: hidden;
  border: 1px solid rgba(255, 255, 255, 0.55);
  box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.6);
  background: #000;
  cursor: pointer;
  touch-action: none;
  z-index: 2;
}
.simplezarr-viewer .sz-minimap[hidden] { display: none; }
.simplezarr-viewer .sz-minimap img { display: block; width: 100%; height: 100%; image-rendering: auto; }
.simplezarr-viewer .sz-minimap-view {
  position: absolute;
  left: 0;
  top: 0;
  box-sizing: border-box;
  border: 1.5px solid #ffd60a;
  background: rgba(255, 214, 10, 0.12);
  pointer-events: none;
}
.simplezarr-viewer .sz-code {
  position: absolute;
  right: 8px;
  top: 40px;
  width: min(460px, calc(100% - 16px));
  padding: 6px;
  border-radius: 4px;
  background: rgba(20, 20, 24, 0.94);
  color: #f4f4f6;
  font: 12px/1.3 var(--sz-font);
  z-index: 3;
}
.simplezarr-viewer .sz-code[hidden] { display: none; }
.simplezarr-viewer .sz-code-head {
  display: flex;
  justify-content: space-between;
  align-items: center;
  margin-bottom: 4px;
}
.simplezarr-viewer .sz-code-text {
  margin: 0;
  padding: 6px;
  max-height: 220px;
  overflow-y: auto;
  background: #111;
  color: #e8e8ea;
  border: 1px solid #444;
  border-radius: 3px;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
  scrollbar-color: #555 #111;
  user-select: text;
  font: 12px/1.35 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
.simplezarr-viewer .sz-toolbar {
  position: absolute;
  right: 8px;
  top: 8px;
  display: flex;
  gap: 1px;
  border-radius: 4px;
  overflow: hidden;
  background: rgba(255, 255, 255, 0.12);
}
.simplezarr-viewer .sz-button {
  min-width: 28px;
  height: 26px;
  padding: 0 9px;
  border: 0;
  background: rgba(20, 20, 22, 0.78);
  color: #e8e8ea;
  font: 500 12px/26px var(--sz-font);
  cursor: pointer;
}
.simplezarr-viewer .sz-button:hover { background: rgba(60, 60, 66, 0.9); }
.simplezarr-viewer .sz-button[aria-pressed="true"] { background: var(--sz-accent); color: #fff; }
.simplezarr-viewer .sz-button:focus-visible { outline: 2px solid var(--sz-accent); outline-offset: -2px; }
.simplezarr-viewer .sz-message {
  position: absolute;
  inset: 0;
  display: flex;
  align-items: center;
  justify-content: center;
  color: #e8e8ea;
  padding: 16px;
  text-align: center;
}
.simplezarr-viewer .sz-sliders {
  display: grid;
  grid-template-columns: max-content 1fr;
  gap: 4px 12px;
  align-items: center;
  padding: 8px 4px 2px;
}
.simplezarr-viewer .sz-sliders[hidden] { display: none; }
.simplezarr-viewer .sz-slider { display: contents; }
.simplezarr-viewer .sz-slider[hidden] { display: none; }
.simplezarr-viewer .sz-slider-label {
  color: var(--sz-fg);
  font-variant-numeric: tabular-nums;
  white-space: nowrap;
  min-width: 9em;
}
.simplezarr-viewer .sz-slider-input {
  width: 100%;
  margin: 0;
  accent-color: var(--sz-accent);
}
.simplezarr-viewer .sz-channels {
  padding: 4px 4px 2px;
  color: var(--sz-fg);
}
.simplezarr-viewer .sz-channels-toggle {
  border: 0;
  background: none;
  color: var(--sz-fg);
  font: 600 12px/20px var(--sz-font);
  cursor: pointer;
  padding: 0;
}
.simplezarr-viewer .sz-channels-toggle::before { content: "▸ "; }
.simplezarr-viewer .sz-channels-toggle[aria-expanded="true"]::before { content: "▾ "; }
.simplezarr-viewer .sz-channels-body {
  display: flex;
  flex-direction: column;
  gap: 6px;
  padding: 4px 0 2px;
}
.simplezarr-viewer .sz-channels-body[hidden],
.simplezarr-viewer .sz-channel-mode[hidden],
.simplezarr-viewer .sz-channel-single[hidden],
.simplezarr-viewer .sz-channel-visible[hidden],
.simplezarr-viewer .sz-channel-color[hidden] { display: none; }
.simplezarr-viewer .sz-channel[data-dim] { opacity: 0.45; }
.simplezarr-viewer .sz-channel[hidden] { display: none; }
.simplezarr-viewer .sz-channel-mode { align-self: flex-start; }
.simplezarr-viewer .sz-channel-head {
  display: flex;
  align-items: center;
  gap: 8px;
  font-variant-numeric: tabular-nums;
}
.simplezarr-viewer .sz-channel-name { font-weight: 600; min-width: 6em; }
.simplezarr-viewer .sz-channel-window { opacity: 0.8; flex: 1; }
.simplezarr-viewer .sz-channel-color { width: 28px; height: 20px; padding: 0; border: 0; background: none; }
.simplezarr-viewer .sz-channel-auto { height: 20px; line-height: 20px; }
.simplezarr-viewer .sz-channel-contrast {
  position: relative;
  display: grid;
  grid-template-rows: 24px 16px 16px;
  max-width: 420px;
}
.simplezarr-viewer .sz-channel-histogram { width: 100%; height: 24px; background: rgba(127, 127, 127, 0.12); }
.simplezarr-viewer .sz-channel-contrast input[type="range"] { width: 100%; margin: 0; accent-color: var(--sz-accent); }
.simplezarr-viewer .sz-channel-single { display: flex; align-items: center; gap: 12px; }
.simplezarr-viewer .sz-channel-label { display: flex; align-items: center; gap: 4px; }
.simplezarr-viewer .sz-overlay-values { color: #9fe0ff; }
.simplezarr-viewer .sz-layers[hidden] { display: none; }
.simplezarr-viewer .sz-layers { border-top: 1px solid rgba(127, 127, 127, 0.25); padding-top: 6px; }
.simplezarr-viewer .sz-layers-title { font-weight: 600; margin-bottom: 4px; }
.simplezarr-viewer .sz-layers-list { display: flex; flex-direction: column; gap: 4px; }
.simplezarr-viewer .sz-layer { display: flex; align-items: center; gap: 8px; }
.simplezarr-viewer .sz-layer-name { font-weight: 600; min-width: 6em; }
.simplezarr-viewer .sz-layer-kind { color: var(--sz-fg2); min-width: 4em; }
.simplezarr-viewer .sz-layer-opacity { width: 120px; accent-color: var(--sz-accent); }
.simplezarr-viewer .sz-layer-outline-label { display: flex; align-items: center; gap: 4px; }
.simplezarr-viewer .sz-layer-up, .simplezarr-viewer .sz-layer-down { padding: 0 6px; line-height: 18px; }
.simplezarr-viewer .sz-chunkgrid {
  position: absolute;
  inset: 0;
  width: 100%;
  height: 100%;
  pointer-events: none;
}
.simplezarr-viewer .sz-chunkgrid[hidden],
.simplezarr-viewer .sz-chunk-legend[hidden],
.simplezarr-viewer .sz-iopanel[hidden] { display: none; }
.simplezarr-viewer .sz-chunk-legend {
  position: absolute;
  left: 8px;
  top: 36px;
  display: flex;
  gap: 10px;
  padding: 3px 8px;
  border-radius: 4px;
  background: rgba(20, 20, 22, 0.72);
  color: #e8e8ea;
  font: 11px/1.45 var(--sz-font);
  font-variant-numeric: tabular-nums;
  pointer-events: none;
  user-select: none;
}
.simplezarr-viewer .sz-chunk-legend-item { display: inline-flex; align-items: center; gap: 4px; }
.simplezarr-viewer .sz-chunk-swatch { width: 10px; height: 10px; border-radius: 2px; opacity: 0.9; }
.simplezarr-viewer .sz-chunk-count { opacity: 0.75; }
.simplezarr-viewer .sz-iopanel {
  position: absolute;
  right: 8px;
  top: 42px;
  min-width: 210px;
  padding: 5px 9px 6px;
  border-radius: 4px;
  background: rgba(20, 20, 22, 0.8);
  color: #e8e8ea;
  font: 11px/1.5 var(--sz-font);
  font-variant-numeric: tabular-nums;
  pointer-events: none;
  user-select: none;
  white-space: nowrap;
}
.simplezarr-viewer .sz-io-title { font-weight: 600; margin-bottom: 2px; color: #fff; }
.simplezarr-viewer .sz-io-rows { display: grid; grid-template-columns: max-content 1fr; gap: 0 12px; }
.simplezarr-viewer .sz-io-label { color: #a9a9b2; }
.simplezarr-viewer .sz-io-sub { padding-left: 10px; }
.simplezarr-viewer .sz-io-value { text-align: right; }
.simplezarr-viewer .sz-io-warn { color: #ff8080; }
`;
