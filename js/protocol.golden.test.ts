/**
 * The golden examples of the protocol, made once from the kernel's declaration
 * (`simplezarr/viewer/_protocol.py`, by `tests/protocol/make_golden.py`) and
 * checked by both sides: here, every kernel example parses to itself, every
 * front-end example is what this side's builders make, and the versions agree.
 */
import { describe, expect, it } from "vitest";
import golden from "../tests/protocol/golden.json";
import {
  PROTOCOL_VERSION,
  closeMessage,
  histogramRequest,
  parseKernelMessage,
  probeRequest,
  readyMessage,
  viewportMessage,
} from "./protocol";

type Msg = Record<string, unknown>;
const kernel = golden.kernel as Record<string, Msg>;
const frontend = golden.frontend as Record<string, Msg>;
const PNG = [new DataView(new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer)];

describe("golden protocol examples", () => {
  it("speak this side's version", () => {
    expect(golden.version).toBe(PROTOCOL_VERSION);
  });

  it("every kernel message type has an example, and each parses to itself", () => {
    const types = new Set(Object.values(kernel).map((m) => m.type));
    expect([...types].sort()).toEqual(["drop", "probe", "status", "tile", "tile_error"]);
    for (const [name, msg] of Object.entries(kernel)) {
      const warnings: string[] = [];
      const parsed = parseKernelMessage(msg, msg.type === "tile" ? PNG : [], (w) => warnings.push(w));
      expect(warnings, name).toEqual([]);
      expect(parsed, name).not.toBeNull();
      const { png: _png, ...rest } = parsed as unknown as Msg;
      expect(rest, name).toEqual(msg);
    }
  });

  it("every front-end example is what the builders make", () => {
    const types = new Set(Object.values(frontend).map((m) => m.type));
    expect([...types].sort()).toEqual(["close", "histogram", "probe", "ready", "viewport"]);
    for (const [name, m] of Object.entries(frontend)) {
      const view = m.view as string;
      const built =
        m.type === "ready"
          ? readyMessage(view)
          : m.type === "close"
            ? closeMessage(view)
            : m.type === "histogram"
              ? histogramRequest(view)
              : m.type === "probe"
                ? probeRequest(view, m.id as number, m.world as [number, number])
                : viewportMessage(
                    view,
                    m.seq as number,
                    m.center as [number, number],
                    m.scale as number,
                    m.size as [number, number],
                    m.dpr as number,
                    m.channels as number[],
                    m.layers as { layer: number; channels: number[] }[],
                  );
      expect(built, name).toEqual(m);
    }
  });
});
