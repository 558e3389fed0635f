import { describe, expect, it } from "vitest";
import { type IoStats, formatBytes, formatMs, formatPercent, panelRows, parseStats } from "./iopanel";

const STATS: IoStats = {
  views: 1,
  levels: [
    { level: 0, held: 12, cached: 3 },
    { level: 1, held: 0, cached: 0 },
    { level: 2, held: 1, cached: 0 },
  ],
  held: 13,
  cached: 3,
  memory: 3 * 1024 * 1024,
  memory_budget: 512 * 1024 * 1024,
  cache_hits: 3,
  cache_misses: 13,
  hit_rate: 0.1875,
  reads: 12,
  read_failures: 1,
  reads_in_flight: 2,
  reads_queued: 5,
  bytes_read: 1536,
  read_ms: 4.236,
  tiles_sent: 12,
  bytes_sent: 2.5 * 1024 * 1024,
  encodes: 12,
  encode_ms: 0.5,
};

/** The panel's text of a row, and its fields. */
const text = (row: { parts: { text: string }[] }): string => row.parts.map((p) => p.text).join("");
const fields = (s: IoStats): Record<string, string> =>
  Object.fromEntries(panelRows(s).flatMap((r) => r.parts.filter((p) => p.field).map((p) => [p.field!, p.text])));

describe("formatting", () => {
  it("bytes in powers of 1024 with three significant digits", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.00 KB");
    expect(formatBytes(1536)).toBe("1.50 KB");
    expect(formatBytes(12.34 * 1024 * 1024)).toBe("12.3 MB");
    expect(formatBytes(512 * 1024 * 1024)).toBe("512 MB");
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.00 GB");
    expect(formatBytes(-1)).toBe("?");
  });

  it("ratios as percentages, unknown as a dash", () => {
    expect(formatPercent(0.1875)).toBe("19%");
    expect(formatPercent(0.05)).toBe("5.0%");
    expect(formatPercent(0.995)).toBe("99.5%");
    expect(formatPercent(1)).toBe("100%");
    expect(formatPercent(0)).toBe("0%");
    expect(formatPercent(null)).toBe("–");
  });

  it("times in ms", () => {
    expect(formatMs(0.423)).toBe("0.42 ms");
    expect(formatMs(4.236)).toBe("4.2 ms");
    expect(formatMs(37.4)).toBe("37 ms");
    expect(formatMs(null)).toBe("–");
  });
});

describe("parseStats", () => {
  it("accepts the kernel's dict and refuses malformed ones", () => {
    expect(parseStats(STATS)).toEqual(STATS);
    expect(parseStats({})).toBeNull();
    expect(parseStats(null)).toBeNull();
    expect(parseStats({ ...STATS, reads: -1 })).toBeNull();
    expect(parseStats({ ...STATS, hit_rate: "x" })).toBeNull();
    expect(parseStats({ ...STATS, levels: [{ level: 0 }, ...STATS.levels] })?.levels).toEqual(STATS.levels);
  });
});

describe("panelRows", () => {
  it("shows every number under its field, formatted", () => {
    expect(fields(STATS)).toEqual({
      held: "13",
      cached: "3",
      "level0.held": "12",
      "level0.cached": "3",
      "level2.held": "1",
      "level2.cached": "0",
      memory: "3.00 MB",
      memory_budget: "512 MB",
      hit_rate: "19%",
      cache_hits: "3",
      cache_gets: "16",
      reads: "12",
      reads_in_flight: "2",
      reads_queued: "5",
      bytes_read: "1.50 KB",
      read_ms: "4.2 ms",
      read_failures: "1",
      tiles_sent: "12",
      bytes_sent: "2.50 MB",
      encode_ms: "0.50 ms",
    });
  });

  it("reads as sentences, levels without chunks left out", () => {
    const rows = panelRows(STATS);
    expect(rows.map((r) => `${r.label.trim()}: ${text(r)}`)).toEqual([
      "Chunks: 13 held · 3 cached",
      "level 0: 12 · 3",
      "level 2: 1 · 0",
      "Memory: 3.00 MB of 512 MB (0.6%)",
      "Cache hits: 19% (3 of 16)",
      "Reads: 12 done · 2 running · 5 queued",
      "Read: 1.50 KB · 4.2 ms each",
      "Failed: 1 read",
      "Sent: 12 tiles · 2.50 MB",
      "Encode: 0.50 ms each",
    ]);
    expect(rows.find((r) => r.label === "Failed")?.warn).toBe(true);
  });

  it("has no failure row without failures and no budget part without a budget", () => {
    const rows = panelRows({ ...STATS, read_failures: 0, memory_budget: null, hit_rate: null });
    expect(rows.some((r) => r.label === "Failed")).toBe(false);
    expect(text(rows.find((r) => r.label === "Memory")!)).toBe("3.00 MB");
    expect(text(rows.find((r) => r.label === "Cache hits")!)).toBe("– (3 of 16)");
  });
});
