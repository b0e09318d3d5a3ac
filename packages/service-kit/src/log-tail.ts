/**
 * Keeps the last `maxBytes` of a stream of chunks, so a command that prints
 * gigabytes costs a bounded amount of memory. The text starts at a line
 * boundary when one is near, and says how much was dropped.
 */
export class LogTail {
  #chunks: Buffer[] = [];
  #size = 0;
  #dropped = 0;

  constructor(readonly maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    }
  }

  /** Bytes dropped from the front so far. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  push(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#chunks.push(bytes);
    this.#size += bytes.length;
    if (this.#size > this.maxBytes * 2) this.#compact();
  }

  /** The kept text, prefixed with a note when bytes were dropped. */
  text(): string {
    this.#compact();
    let kept = Buffer.concat(this.#chunks);
    let dropped = this.#dropped;
    if (dropped > 0) {
      // Start at the next full line unless that throws away most of the tail.
      const newline = kept.indexOf(0x0a);
      if (newline >= 0 && newline < kept.length / 4) {
        kept = kept.subarray(newline + 1);
        dropped += newline + 1;
      }
    }
    const body = kept.toString('utf8');
    return dropped > 0 ? `[... ${dropped} bytes dropped ...]\n${body}` : body;
  }

  #compact(): void {
    if (this.#size <= this.maxBytes) return;
    const all = Buffer.concat(this.#chunks);
    const cut = all.length - this.maxBytes;
    this.#chunks = [all.subarray(cut)];
    this.#dropped += cut;
    this.#size = this.maxBytes;
  }
}
