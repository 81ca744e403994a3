/**
 * Gathers items submitted close together into one call of `run`: a batch goes out when it reaches
 * `maxBatch`, `maxDelayMs` after its first item (0: once the current turn of the event loop has
 * handled its I/O), or as soon as the previous run finishes, so under load the queue that builds
 * during one model call becomes the next batch, and a lone request does not wait.
 */
export class MicroBatcher<Item, Result> {
  private queue: Array<{ item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }> = [];
  private timer: { cancel(): void } | undefined;
  private running = false;
  /** Sizes of the batches run so far (for tests and benchmarks). */
  readonly batchSizes: number[] = [];

  constructor(
    private readonly run: (items: Item[]) => Promise<Result[]>,
    private readonly options: { maxBatch: number; maxDelayMs: number },
  ) {
    if (!(Number.isInteger(options.maxBatch) && options.maxBatch >= 1)) throw new RangeError(`maxBatch must be a whole number ≥ 1, not ${options.maxBatch}`);
  }

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.running) return;
      if (this.queue.length >= this.options.maxBatch) this.flush();
      else this.timer ??= this.schedule();
    });
  }

  private schedule(): { cancel(): void } {
    const flush = () => this.flush();
    if (this.options.maxDelayMs > 0 || typeof setImmediate === 'undefined') {
      const timer = setTimeout(flush, this.options.maxDelayMs);
      return { cancel: () => clearTimeout(timer) };
    }
    const immediate = setImmediate(flush);
    return { cancel: () => clearImmediate(immediate) };
  }

  private flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.running || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.running = true;
    this.batchSizes.push(batch.length);
    this.run(batch.map((entry) => entry.item))
      .then(
        (results) => batch.forEach((entry, index) => entry.resolve(results[index]!)),
        (error) => batch.forEach((entry) => entry.reject(error)),
      )
      .finally(() => {
        this.running = false;
        if (this.queue.length > 0) this.flush();
      });
  }
}
