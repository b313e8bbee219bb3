/** Wakes one waiting loop when work arrives; a notify with nobody waiting is a no-op. */
export class Signal {
  private waiting: (() => void) | undefined;

  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  notify(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }
}
