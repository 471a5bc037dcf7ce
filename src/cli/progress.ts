/**
 * A one-line progress bar for long CLI work. On a terminal it redraws in
 * place at most every 100 ms; elsewhere (CI logs, pipes) it prints nothing
 * until done(), so logs stay readable.
 */
export class ProgressBar {
  private lastDraw = 0;
  private readonly started = performance.now();
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = stream.isTTY === true;
  }

  update(done: number): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - this.label.length - 30));
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const filled = Math.round(frac * width);
    const secs = (now - this.started) / 1000;
    const eta = frac > 0 && frac < 1 ? ` eta ${((secs / frac) * (1 - frac)).toFixed(0)}s` : "";
    this.stream.write(
      `\r${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${this.total} ${secs.toFixed(1)}s${eta}\x1b[K`,
    );
  }

  /** Finishes the line (on a terminal) and returns the elapsed seconds. */
  done(): number {
    const secs = (performance.now() - this.started) / 1000;
    if (this.tty) {
      this.update(this.total);
      this.stream.write("\n");
    }
    return secs;
  }
}
