import { inBackground } from '../telemetry.ts';

export interface BatcherOptions<I, O> {
  /** Does the work of a whole batch in one go (one statement, one commit); one result per item, in order. */
  run: (items: readonly I[]) => Promise<readonly O[]>;
  /** Items per batch at most. */
  maxBatch?: number;
  /** Batches running at once; past that, items queue for the next batch. */
  maxInFlight?: number;
  /** A batch of several that failed: whether to run its items one by one to find the one at fault (default: always). */
  isolate?: (error: unknown) => boolean;
}

/**
 * Group commit without added latency: an item submitted while fewer than `maxInFlight` batches
 * run goes at once, alone; items submitted while they are all busy wait and go together, as one
 * batch, when one finishes. So a quiet system answers as fast as before, and a busy one does one
 * statement and one commit for many items instead of one each. Each caller's promise settles
 * only after its batch has committed (or failed). A batch of several that fails is run again item
 * by item, so one item that cannot go in never fails the others.
 */
export class Batcher<I, O> {
  readonly #run: BatcherOptions<I, O>['run'];
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #isolate: (error: unknown) => boolean;
  readonly #queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #inFlight = 0;
  /** Batches run and items in them (for tests and metrics). */
  batches = 0;
  items = 0;

  constructor(opts: BatcherOptions<I, O>) {
    this.#run = opts.run;
    this.#maxBatch = opts.maxBatch ?? 100;
    this.#maxInFlight = opts.maxInFlight ?? 2;
    this.#isolate = opts.isolate ?? (() => true);
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#inFlight++;
      this.batches++;
      this.items += batch.length;
      // A batch serves many requests: it runs in none's context (its log lines carry no one request's trace).
      void inBackground(() => this.#runBatch(batch)).finally(() => {
        this.#inFlight--;
        this.#next();
      });
    }
  }

  async #runBatch(batch: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[]): Promise<void> {
    try {
      const results = await this.#run(batch.map((b) => b.item));
      if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} gave ${results.length} results`);
      batch.forEach((b, i) => b.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1 || !this.#isolate(error)) {
        for (const b of batch) b.reject(error);
        return;
      }
      for (const b of batch) {
        try {
          const [result] = await this.#run([b.item]);
          b.resolve(result!);
        } catch (alone) {
          b.reject(alone);
        }
      }
    }
  }
}
