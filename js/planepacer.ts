/**
 * Paces slider moves to what the kernel can deliver.
 *
 * Holding a step key (or dragging a slider) asks for a new plane 30 times a
 * second or more; a plane takes the kernel longer than that to read and
 * encode. Sending each one abandons the plane before it: nothing is ever
 * complete until the key is released. So a move is sent at once only when
 * the plane on screen is complete (or nothing was sent for
 * {@link PLANE_PATIENCE_MS}); otherwise the newest move waits, and is sent as
 * soon as the plane on screen completes. The slider shows the newest index
 * at once; the canvas shows planes as fast as they arrive, each complete,
 * skipping those the kernel could not keep up with.
 *
 * {@link PlaneHold} paces what is drawn: after a plane change, the canvas
 * keeps the plane it shows until the new one can be drawn complete, instead
 * of drawing it tile by tile over the old one (a view's first plane too:
 * nothing is drawn until it is complete). The hold is bounded: it waits
 * {@link PLANE_HOLD_FIRST_MS} for the first tile of the plane, then ends
 * {@link PLANE_HOLD_MS} (or two frame costs, when frames are slower) after
 * the last one, and at most {@link PLANE_HOLD_MAX_MS} after the change; a
 * failed tile ends it. A moved
 * camera always draws at once (a pan or zoom is never held), and so does a
 * plane that is already complete from the cache. Why: each frame that shows
 * a half-arrived plane costs a full draw, with software WebGL about 65 ms at
 * 800 x 500 and 350-550 ms at full HD, during which the page takes no
 * message (the new tiles wait in its queue); a step on the z slider went
 * through three such frames, now it is one.
 *
 * Pure timing logic (the clock and the timer are injectable); the widget
 * commits the position (trait + plane) in `commit` and asks the hold in each
 * frame.
 */

/** Longest wait for the plane on screen before the newest move is sent anyway (a slow or failing read). */
export const PLANE_PATIENCE_MS = 2000;

/**
 * Shortest wait, after a plane change or the last tile of the new plane that
 * arrived, before what has arrived is drawn anyway (a slow store shows its
 * progress). The wait is twice the page's measured frame cost when that is
 * longer: a frame that blocks the page for 350 ms also holds the new tiles in
 * its queue for that long.
 */
export const PLANE_HOLD_MS = 100;

/**
 * Wait for the first tile of a new plane (a round trip to the kernel: about
 * 150 ms through a local JupyterLab), before {@link PLANE_HOLD_MS} applies.
 */
export const PLANE_HOLD_FIRST_MS = 400;

/** Longest a plane change keeps the previous plane on the canvas, however the tiles trickle in. */
export const PLANE_HOLD_MAX_MS = 2000;

export interface PacerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const browserClock: PacerClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class PlanePacer {
  private waiting = false;
  private sentAt = -Infinity;
  private timer: unknown = null;

  constructor(
    private readonly commit: () => void,
    private readonly clock: PacerClock = browserClock,
    private readonly patienceMs = PLANE_PATIENCE_MS,
  ) {}

  /** Whether a move waits for the plane on screen. */
  get holding(): boolean {
    return this.waiting;
  }

  /** The user moved a slider; `onScreenComplete`: the plane drawn now is complete. */
  want(onScreenComplete: boolean): void {
    const since = this.clock.now() - this.sentAt;
    if (onScreenComplete || since >= this.patienceMs) {
      this.flush();
      return;
    }
    this.waiting = true;
    if (this.timer === null) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        if (this.waiting) this.flush();
      }, this.patienceMs - since);
    }
  }

  /** A frame drew the plane on screen complete: send the move that waits, if any. */
  complete(): void {
    if (this.waiting) this.flush();
  }

  dispose(): void {
    this.waiting = false;
    this.cancelTimer();
  }

  private flush(): void {
    this.waiting = false;
    this.cancelTimer();
    this.sentAt = this.clock.now();
    this.commit();
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Holds the canvas on the plane it shows until the new plane is complete (see module docs). */
export class PlaneHold {
  private startedAt = -Infinity;
  private progressAt = -Infinity;
  private progressed = false;
  private active = false;
  private timer: unknown = null;
  /** Smoothed cost of a drawn frame (ms the page stays blocked after drawing), once measured. */
  private cost = 0;

  /** @param wake asks for a frame (when the hold runs out) */
  constructor(
    private readonly wake: () => void,
    private readonly clock: PacerClock = browserClock,
    private readonly holdMs = PLANE_HOLD_MS,
    private readonly maxMs = PLANE_HOLD_MAX_MS,
    private readonly firstMs = PLANE_HOLD_FIRST_MS,
  ) {}

  /** Whether frames are being held now. */
  get holding(): boolean {
    return this.active && this.clock.now() < this.deadline();
  }

  /** The smoothed frame cost measured so far (ms; 0 before the first). */
  get frameCost(): number {
    return this.cost;
  }

  /** The plane changed: hold frames until it is complete (bounded, see {@link deadline}). */
  start(): void {
    this.active = true;
    this.progressed = false;
    this.startedAt = this.progressAt = this.clock.now();
    this.arm();
  }

  /** A tile of the new plane became drawable: wait a little longer for the rest. */
  progress(): void {
    if (!this.active) return;
    this.progressed = true;
    this.progressAt = this.clock.now();
    this.arm();
  }

  /**
   * Whether this frame skips drawing: a hold runs, the camera did not move
   * since the last drawn frame, and the new plane cannot be drawn complete
   * (`complete` is asked only then). Anything else ends the hold.
   */
  skip(moved: boolean, complete: () => boolean): boolean {
    if (this.holding && !moved && !complete()) return true;
    this.end();
    return false;
  }

  /** A frame was drawn: measure how long the page stays blocked by it (the next task's delay). */
  drawn(): void {
    const t = this.clock.now();
    this.clock.setTimeout(() => {
      const ms = this.clock.now() - t;
      this.cost = this.cost === 0 ? ms : 0.7 * this.cost + 0.3 * ms;
    }, 0);
  }

  /** Stop holding (the next frame draws). */
  end(): void {
    this.active = false;
    this.cancelTimer();
  }

  dispose(): void {
    this.end();
  }

  /** When the hold runs out: a wait for the first tile, then after the last; capped from the start. */
  private deadline(): number {
    const wait = Math.max(this.holdMs, 2 * this.cost);
    const until = this.progressed ? this.progressAt + wait : this.startedAt + Math.max(this.firstMs, wait);
    return Math.min(this.startedAt + this.maxMs, until);
  }

  private arm(): void {
    this.cancelTimer();
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = null;
        this.wake();
      },
      Math.max(0, this.deadline() - this.clock.now()),
    );
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
