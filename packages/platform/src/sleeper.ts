/**
 * A loop's pause that work can cut short: `sleep(ms)` waits up to `ms`, `wake()` ends the current
 * sleep, or, when the loop is busy, makes its next sleep return at once (so work signalled while
 * busy is not left waiting for a timer). `clear()` forgets a wake-up the loop has already covered.
 */
export class Sleeper {
  #wake: (() => void) | undefined;
  #signalled = false;

  get sleeping(): boolean {
    return this.#wake !== undefined;
  }

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.#signalled) {
        this.#signalled = false;
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#signalled = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  wake(): void {
    if (this.#wake) this.#wake();
    else this.#signalled = true;
  }

  clear(): void {
    this.#signalled = false;
  }
}
