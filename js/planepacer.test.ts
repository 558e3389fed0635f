import { describe, expect, it } from "vitest";
import { type PacerClock, PlanePacer } from "./planepacer";

/** A clock the test moves by hand, with one-shot timers. */
function fakeClock(): PacerClock & { advance(ms: number): void } {
  let t = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  return {
    now: () => t,
    setTimeout: (fn, ms) => {
      timers.push({ at: t + ms, fn, id: next });
      return next++;
    },
    clearTimeout: (id) => {
      timers = timers.filter((x) => x.id !== id);
    },
    advance(ms: number) {
      t += ms;
      const due = timers.filter((x) => x.at <= t);
      timers = timers.filter((x) => x.at > t);
      for (const x of due) x.fn();
    },
  };
}

describe("PlanePacer", () => {
  it("sends a move at once when the plane on screen is complete", () => {
    let sent = 0;
    const pacer = new PlanePacer(() => sent++, fakeClock(), 1000);
    pacer.want(true);
    expect(sent).toBe(1);
    expect(pacer.holding).toBe(false);
  });

  it("holds moves while the plane sent is incomplete and sends only the newest when it completes", () => {
    let sent = 0;
    const clock = fakeClock();
    const pacer = new PlanePacer(() => sent++, clock, 1000);
    pacer.want(true); // plane 1 sent
    for (let i = 0; i < 10; i++) {
      clock.advance(30); // a held key repeats
      pacer.want(false);
    }
    expect(sent).toBe(1);
    expect(pacer.holding).toBe(true);
    pacer.complete(); // plane 1 drawn complete: the newest move goes
    expect(sent).toBe(2);
    expect(pacer.holding).toBe(false);
    pacer.complete(); // nothing waits: nothing more is sent
    expect(sent).toBe(2);
  });

  it("sends the newest move anyway after the patience, if the plane never completes", () => {
    let sent = 0;
    const clock = fakeClock();
    const pacer = new PlanePacer(() => sent++, clock, 1000);
    pacer.want(true);
    clock.advance(100);
    pacer.want(false);
    clock.advance(850);
    expect(sent).toBe(1);
    clock.advance(50); // 1000 ms after the last send
    expect(sent).toBe(2);
    clock.advance(5000); // no more timers fire
    expect(sent).toBe(2);
  });

  it("forgets a waiting move when disposed", () => {
    let sent = 0;
    const clock = fakeClock();
    const pacer = new PlanePacer(() => sent++, clock, 1000);
    pacer.want(true);
    pacer.want(false);
    pacer.dispose();
    clock.advance(5000);
    pacer.complete();
    expect(sent).toBe(1);
  });
});
