/**
 * "Copy view as code": the Python lines that recreate the current view.
 *
 * {@link viewCode} is pure: it writes a `simplezarr.Viewer(...)` call from
 * the view's traits (camera, slider position, channel mode, colormap, each
 * channel's colour, contrast, gamma and visibility) and the source
 * arguments the kernel describes in the private `_code_source` trait (the
 * source as Python, the image, storage options and plane: only the kernel
 * knows how the viewer was opened). Strings are written with
 * `JSON.stringify`, whose escapes Python's string literals read the same.
 * {@link CodePopup} shows the code (selected, for a manual copy where the
 * clipboard API is not allowed) while the toolbar button copies it.
 */

import type { ChannelState, Vec2 } from "./protocol";

/** What the kernel says about how the viewer was opened (`_code_source`). */
export interface CodeSource {
  /** Python expressions of the fixed arguments: the source first, then `image=...` etc. */
  args: string[];
  /** A comment line for sources that have no literal (an array, a zarr node), or "". */
  note: string;
}

export interface ViewState {
  source: CodeSource;
  center: Vec2 | null;
  zoom: number | null;
  position: Record<string, number>;
  channelMode: string;
  colormap: string;
  invert: boolean;
  channels: ChannelState[];
}

/** The `_code_source` trait, or a placeholder source when it is missing or malformed. */
export function parseCodeSource(v: unknown): CodeSource {
  if (typeof v === "object" && v !== null) {
    const { args, note } = v as { args?: unknown; note?: unknown };
    if (Array.isArray(args) && args.length > 0 && args.every((a) => typeof a === "string")) {
      return { args: args as string[], note: typeof note === "string" ? note : "" };
    }
  }
  return { args: ["source"], note: "# source: the path, URL, array or zarr node you viewed" };
}

/** A float as Python reads it back to the same number (at most 10 significant digits). */
export function pyNumber(x: number): string {
  if (!Number.isFinite(x)) return "float('nan')";
  const s = String(Number(x.toPrecision(10)));
  return s.includes("e") ? s.replace("e+", "e") : s;
}

const pyString = (s: string): string => JSON.stringify(s);
const pyList = (v: readonly number[]): string => `[${v.map(pyNumber).join(", ")}]`;

/** The Python lines recreating the view; the viewer is called `name`. */
export function viewCode(s: ViewState, name = "v"): string {
  const args = [...s.source.args];
  if (s.center !== null) args.push(`center=${pyList(s.center)}`);
  if (s.zoom !== null && s.zoom > 0) args.push(`zoom=${pyNumber(s.zoom)}`);
  const position = Object.entries(s.position);
  if (position.length > 0) {
    args.push(`position={${position.map(([k, i]) => `${pyString(k)}: ${Math.round(i)}`).join(", ")}}`);
  }
  args.push(`channel_mode=${pyString(s.channelMode)}`);
  if (s.channelMode === "single") {
    args.push(`colormap=${pyString(s.colormap)}`);
    if (s.invert) args.push("invert=True");
  }
  const lines = ["import simplezarr", ""];
  if (s.source.note) lines.push(s.source.note);
  lines.push(`${name} = simplezarr.Viewer(`, ...args.map((a) => `    ${a},`), ")");
  s.channels.forEach((c, i) => {
    const ch = `${name}.channels[${i}]`;
    lines.push(`${ch}.contrast_limits = ${pyList(c.contrast_limits)}`);
    lines.push(`${ch}.color = ${pyString(c.color)}`);
    if (c.gamma !== 1) lines.push(`${ch}.gamma = ${pyNumber(c.gamma)}`);
    if (!c.visible) lines.push(`${ch}.visible = False`);
  });
  lines.push(name);
  return `${lines.join("\n")}\n`;
}

/** A read-only box with the code, selected; closed by its button, Esc or `hide()`. */
export class CodePopup {
  readonly el: HTMLDivElement;
  private readonly text: HTMLPreElement;
  private readonly status: HTMLSpanElement;

  constructor() {
    this.el = document.createElement("div");
    this.el.className = "sz-code";
    this.el.hidden = true;
    const head = document.createElement("div");
    head.className = "sz-code-head";
    this.status = document.createElement("span");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "sz-button";
    close.textContent = "Close";
    close.addEventListener("click", () => this.hide());
    head.append(this.status, close);
    this.text = document.createElement("pre");
    this.text.className = "sz-code-text";
    this.text.tabIndex = 0;
    this.text.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.hide();
    });
    this.el.append(head, this.text);
  }

  get shown(): boolean {
    return !this.el.hidden;
  }

  /** Show `code`; `copied` says whether the clipboard has it. */
  show(code: string, copied: boolean): void {
    this.text.textContent = code;
    this.status.textContent = copied ? "Copied to the clipboard" : "Select and copy (Ctrl+C)";
    this.el.hidden = false;
    this.el.dataset.copied = copied ? "1" : "0";
    this.text.focus({ preventScroll: true });
    const selection = window.getSelection();
    if (selection !== null) {
      const range = document.createRange();
      range.selectNodeContents(this.text);
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }

  hide(): void {
    this.el.hidden = true;
  }

  dispose(): void {
    this.el.remove();
  }
}
