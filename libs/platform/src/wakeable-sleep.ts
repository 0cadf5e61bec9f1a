/**
 * A pause a background loop takes between rounds, which `wake()` ends at once (a commit of this process that left
 * work for the loop, or `stop()`). Waking when nobody sleeps does nothing.
 */
export class WakeableSleep {
  private wakeUp?: () => void;

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
