import { describe, expect, it } from "vitest";
import { type PacerClock, PlaneHold, PlanePacer } from "./planepacer";

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

describe("PlaneHold", () => {
  it("keeps frames from drawing a half-arrived plane until it is complete", () => {
    const clock = fakeClock();
    let wakes = 0;
    const hold = new PlaneHold(() => wakes++, clock, 100, 2000);
    expect(hold.skip(false, () => false)).toBe(false); // no plane change: draw
    hold.start();
    clock.advance(50);
    expect(hold.skip(false, () => false)).toBe(true); // tiles still arriving: keep the old plane
    expect(hold.holding).toBe(true);
    expect(hold.skip(false, () => true)).toBe(false); // complete: draw, and the hold is over
    expect(hold.holding).toBe(false);
    expect(hold.skip(false, () => false)).toBe(false);
    clock.advance(1000);
    expect(wakes).toBe(0); // the timer went with the hold
  });

  it("never holds a moved camera, and asks for completeness only when it could hold", () => {
    const hold = new PlaneHold(() => {}, fakeClock(), 100, 2000);
    hold.start();
    let asked = 0;
    const complete = (): boolean => {
      asked++;
      return false;
    };
    expect(hold.skip(true, complete)).toBe(false);
    expect(asked).toBe(0);
    expect(hold.holding).toBe(false);
  });

  it("waits holdMs after the last new tile, and asks for a frame when it gives up", () => {
    const clock = fakeClock();
    let wakes = 0;
    const hold = new PlaneHold(() => wakes++, clock, 100, 2000);
    hold.start();
    clock.advance(80);
    hold.progress(); // a tile arrived: 100 ms more
    clock.advance(80);
    expect(hold.skip(false, () => false)).toBe(true);
    expect(wakes).toBe(0);
    clock.advance(20);
    expect(wakes).toBe(1);
    expect(hold.skip(false, () => false)).toBe(false); // draw what has arrived
    hold.progress(); // a late tile does not start a new hold
    expect(hold.holding).toBe(false);
  });

  it("waits firstMs for the first tile of the plane (a round trip), then holdMs after each", () => {
    const clock = fakeClock();
    let wakes = 0;
    const hold = new PlaneHold(() => wakes++, clock, 100, 2000, 400);
    hold.start();
    clock.advance(350);
    expect(hold.holding).toBe(true); // no tile yet: the kernel has not answered
    expect(wakes).toBe(0);
    hold.progress(); // the first tile
    clock.advance(99);
    expect(hold.holding).toBe(true);
    clock.advance(1);
    expect(hold.holding).toBe(false);
    expect(wakes).toBe(1);
    hold.start(); // no tile within firstMs: give up then
    clock.advance(400);
    expect(hold.holding).toBe(false);
    expect(wakes).toBe(2);
  });

  it("ends at maxMs after the change however the tiles trickle in", () => {
    const clock = fakeClock();
    let wakes = 0;
    const hold = new PlaneHold(() => wakes++, clock, 100, 300, 100);
    hold.start();
    for (let i = 0; i < 5; i++) {
      clock.advance(50);
      hold.progress();
    }
    expect(hold.holding).toBe(true); // 250 ms in
    clock.advance(50);
    expect(hold.holding).toBe(false);
    expect(wakes).toBe(1);
  });

  it("waits two frame costs when frames are slower than holdMs (the tiles wait behind a frame)", () => {
    const clock = fakeClock();
    const hold = new PlaneHold(() => {}, clock, 100, 5000, 100);
    expect(hold.frameCost).toBe(0);
    hold.drawn();
    clock.advance(400); // the page stayed blocked 400 ms after drawing
    expect(hold.frameCost).toBe(400);
    hold.start();
    clock.advance(700);
    expect(hold.holding).toBe(true);
    clock.advance(100);
    expect(hold.holding).toBe(false);
  });

  it("restarts on each plane change, with one timer", () => {
    const clock = fakeClock();
    let wakes = 0;
    const hold = new PlaneHold(() => wakes++, clock, 100, 2000, 100);
    hold.start();
    clock.advance(60);
    hold.start(); // the next plane
    clock.advance(60);
    expect(wakes).toBe(0);
    expect(hold.skip(false, () => false)).toBe(true);
    clock.advance(40);
    expect(wakes).toBe(1);
    hold.start();
    hold.dispose();
    expect(hold.holding).toBe(false);
    clock.advance(1000);
    expect(wakes).toBe(1);
  });
});
