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
 * Pure timing logic (the clock and the timer are injectable); the widget
 * commits the position (trait + plane) in `commit`.
 */

/** Longest wait for the plane on screen before the newest move is sent anyway (a slow or failing read). */
export const PLANE_PATIENCE_MS = 2000;

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
