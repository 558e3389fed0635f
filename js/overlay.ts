/**
 * The small information overlay in the canvas corner: level in use and zoom,
 * cursor position in world units (and the level-0 pixel under it), the data
 * values there (every channel shown, from the kernel's `probe` answers), how
 * many tiles are still loading (from the kernel's `status` messages), how
 * many failed and why (in the colour of their stripes), and,
 * while tile outlines are shown, a legend: a swatch of each drawn level's
 * outline colour with "level N".
 *
 * Text is only written when it changes, so updating every frame is cheap.
 */

/** One legend entry: a level and its outline colour (CSS). */
export interface LegendEntry {
  level: number;
  color: string;
}

export interface OverlayState {
  /** Level in use and number of levels. */
  level: number;
  levels: number;
  /** e.g. "25%". */
  zoom: string;
  /** e.g. "y 12.5, x 40.2 µm", or "" when the cursor is outside. */
  cursor: string;
  /** e.g. "px 25, 80", or "". */
  pixel: string;
  /** The data under the cursor, e.g. "DAPI 1234 · GFP 87", or "". */
  values: string;
  /** e.g. "3 tiles loading", or "". */
  pending: string;
  /** e.g. "2 tiles failed: read timed out after 30 s", or "". */
  failed: string;
  /** Outline legend, or [] when outlines are hidden. */
  legend: readonly LegendEntry[];
}

export class Overlay {
  readonly el: HTMLElement;
  private readonly lines: HTMLElement[];
  private readonly legend: HTMLElement;
  private legendKey = "";

  constructor() {
    this.el = document.createElement("div");
    this.el.className = "sz-overlay";
    this.el.setAttribute("aria-live", "off");
    this.lines = [0, 1, 2, 3, 4].map(() => {
      const line = document.createElement("div");
      line.className = "sz-overlay-line";
      this.el.appendChild(line);
      return line;
    });
    this.lines[2]!.classList.add("sz-overlay-values");
    this.lines[3]!.classList.add("sz-overlay-pending");
    this.lines[4]!.classList.add("sz-overlay-failed");
    this.legend = document.createElement("div");
    this.legend.className = "sz-overlay-line sz-legend";
    this.legend.hidden = true;
    this.el.appendChild(this.legend);
  }

  update(s: OverlayState): void {
    const levelText = s.levels > 0 ? `level ${s.level} / ${s.levels - 1}${s.zoom ? ` · ${s.zoom}` : ""}` : "";
    const cursorText = [s.cursor, s.pixel].filter((t) => t !== "").join(" · ");
    this.set(0, levelText);
    this.set(1, cursorText);
    this.set(2, s.values);
    this.set(3, s.pending);
    this.set(4, s.failed);
    this.setLegend(s.legend);
  }

  private setLegend(legend: readonly LegendEntry[]): void {
    const key = JSON.stringify(legend);
    if (key === this.legendKey) return;
    this.legendKey = key;
    this.legend.replaceChildren(
      ...legend.map((e) => {
        const item = document.createElement("span");
        item.className = "sz-legend-item";
        item.dataset.level = String(e.level);
        const swatch = document.createElement("span");
        swatch.className = "sz-legend-swatch";
        swatch.style.borderColor = e.color;
        item.append(swatch, `level ${e.level}`);
        return item;
      }),
    );
    this.legend.hidden = legend.length === 0;
  }

  private set(i: number, text: string): void {
    const line = this.lines[i]!;
    if (line.textContent !== text) line.textContent = text;
    line.hidden = text === "";
  }

  dispose(): void {
    this.el.remove();
  }
}
