/**
 * The I/O and cache panel (the `show_stats` trait): the kernel's `stats`
 * trait shown compactly over the view, so a class can watch the pool work
 * while someone pans.
 *
 * The numbers come from the kernel (`simplezarr/viewer/_iostats.py
 * stats_dict`), updated at most every 250 ms while a view is shown; this
 * module only formats them: bytes in KB / MB / GB (powers of 1024, as the
 * viewer's `memory` is given), ratios in %, times in ms. Each number is its
 * own element with a `data-field` naming the trait's key, so tests read
 * exactly what a person reads.
 *
 * {@link parseStats}, the formatters and {@link panelRows} are pure;
 * {@link IoPanel} owns the DOM.
 */

/** The `stats` trait (see `Viewer.stats`). */
export interface IoStats {
  views: number;
  levels: { level: number; held: number; cached: number }[];
  held: number;
  cached: number;
  memory: number;
  memory_budget: number | null;
  cache_hits: number;
  cache_misses: number;
  hit_rate: number | null;
  reads: number;
  read_failures: number;
  reads_in_flight: number;
  reads_queued: number;
  bytes_read: number;
  read_ms: number | null;
  tiles_sent: number;
  bytes_sent: number;
  encodes: number;
  encode_ms: number | null;
}

const COUNTS = [
  "views",
  "held",
  "cached",
  "memory",
  "cache_hits",
  "cache_misses",
  "reads",
  "read_failures",
  "reads_in_flight",
  "reads_queued",
  "bytes_read",
  "tiles_sent",
  "bytes_sent",
  "encodes",
] as const;
const OPTIONAL = ["memory_budget", "hit_rate", "read_ms", "encode_ms"] as const;

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/** Parse the `stats` trait; null when it is empty or malformed (the panel then says so). */
export function parseStats(raw: unknown): IoStats | null {
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (!COUNTS.every((k) => isCount(r[k]))) return null;
  if (!OPTIONAL.every((k) => r[k] === null || isCount(r[k]))) return null;
  if (!Array.isArray(r.levels)) return null;
  const levels = r.levels.filter(
    (l): l is IoStats["levels"][number] =>
      typeof l === "object" && l !== null && isCount(l.level) && isCount(l.held) && isCount(l.cached),
  );
  return { ...(r as unknown as IoStats), levels };
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** Bytes as "512 B", "1.5 KB", "12.3 MB", "1.02 GB" (powers of 1024; 3 significant digits). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "?";
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  const d = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(d)} ${UNITS[u]}`;
}

/** A ratio 0..1 as "87%", "99.5%" (one decimal below 10% and above 99%); "–" when unknown. */
export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return "–";
  const pct = ratio * 100;
  const d = pct > 0 && (pct < 10 || (pct > 99 && pct < 100)) ? 1 : 0;
  return `${pct.toFixed(d)}%`;
}

/** Milliseconds as "0.42 ms", "4.2 ms", "37 ms"; "–" when unknown. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "–";
  const d = ms >= 10 ? 0 : ms >= 1 ? 1 : 2;
  return `${ms.toFixed(d)} ms`;
}

/** One piece of a row's text; `field` names the `stats` key it shows (a test hook). */
export interface RowPart {
  text: string;
  field?: string;
}

/** One row of the panel: a label and its parts. */
export interface PanelRow {
  label: string;
  parts: RowPart[];
  /** A warning row (failed reads), shown in the failure colour. */
  warn?: boolean;
}

const n = (field: keyof IoStats, s: IoStats): RowPart => ({ text: String(s[field]), field });

/** The panel's rows for `s` (see the module docstring). */
export function panelRows(s: IoStats): PanelRow[] {
  const rows: PanelRow[] = [
    { label: "Chunks", parts: [n("held", s), { text: " held · " }, n("cached", s), { text: " cached" }] },
  ];
  for (const l of s.levels) {
    if (l.held === 0 && l.cached === 0) continue;
    rows.push({
      label: `  level ${l.level}`,
      parts: [
        { text: String(l.held), field: `level${l.level}.held` },
        { text: " · " },
        { text: String(l.cached), field: `level${l.level}.cached` },
      ],
    });
  }
  const memory: RowPart[] = [{ text: formatBytes(s.memory), field: "memory" }];
  if (s.memory_budget !== null) {
    memory.push(
      { text: " of " },
      { text: formatBytes(s.memory_budget), field: "memory_budget" },
      { text: ` (${formatPercent(s.memory / s.memory_budget)})` },
    );
  }
  rows.push(
    { label: "Memory", parts: memory },
    {
      label: "Cache hits",
      parts: [
        { text: formatPercent(s.hit_rate), field: "hit_rate" },
        { text: " (" },
        n("cache_hits", s),
        { text: " of " },
        { text: String(s.cache_hits + s.cache_misses), field: "cache_gets" },
        { text: ")" },
      ],
    },
    {
      label: "Reads",
      parts: [n("reads", s), { text: " done · " }, n("reads_in_flight", s), { text: " running · " }, n("reads_queued", s), { text: " queued" }],
    },
    {
      label: "Read",
      parts: [{ text: formatBytes(s.bytes_read), field: "bytes_read" }, { text: " · " }, { text: formatMs(s.read_ms), field: "read_ms" }, { text: " each" }],
    },
  );
  if (s.read_failures > 0) {
    rows.push({ label: "Failed", parts: [n("read_failures", s), { text: s.read_failures === 1 ? " read" : " reads" }], warn: true });
  }
  rows.push(
    {
      label: "Sent",
      parts: [n("tiles_sent", s), { text: " tiles · " }, { text: formatBytes(s.bytes_sent), field: "bytes_sent" }],
    },
    { label: "Encode", parts: [{ text: formatMs(s.encode_ms), field: "encode_ms" }, { text: " each" }] },
  );
  return rows;
}

/** The panel element: a title and a two-column grid of rows. */
export class IoPanel {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private key = "";

  constructor() {
    this.el = document.createElement("div");
    this.el.className = "sz-iopanel";
    this.el.hidden = true;
    this.el.setAttribute("aria-label", "I/O and cache");
    const title = document.createElement("div");
    title.className = "sz-io-title";
    title.textContent = "I/O · cache";
    this.body = document.createElement("div");
    this.body.className = "sz-io-rows";
    this.el.append(title, this.body);
  }

  /** Show or hide the panel. */
  setVisible(on: boolean): void {
    this.el.hidden = !on;
  }

  /** Show the numbers of the `stats` trait (rebuilt only when its text changes). */
  update(raw: unknown): void {
    const s = parseStats(raw);
    const rows: PanelRow[] = s === null ? [{ label: "No statistics yet", parts: [] }] : panelRows(s);
    const key = JSON.stringify(rows);
    if (key === this.key) return;
    this.key = key;
    this.body.replaceChildren(
      ...rows.flatMap((row) => {
        const label = document.createElement("span");
        label.className = "sz-io-label";
        label.textContent = row.label.trim();
        if (row.label.startsWith(" ")) label.classList.add("sz-io-sub");
        const value = document.createElement("span");
        value.className = row.warn ? "sz-io-value sz-io-warn" : "sz-io-value";
        for (const part of row.parts) {
          if (part.field === undefined) {
            value.append(part.text);
          } else {
            const span = document.createElement("span");
            span.dataset.field = part.field;
            span.textContent = part.text;
            value.append(span);
          }
        }
        return [label, value];
      }),
    );
  }

  dispose(): void {
    this.el.remove();
  }
}
