/**
 * Reusable memory for photo bytes read from files and URLs. A photo is read, carried in its batch
 * until ISP has answered, then given back here for the next photo: without it every photo is fresh
 * memory (a few hundred KB the kernel maps page by page, the biggest cost of a photo that is sent as
 * it is), and the dead ones pile up until V8 collects them (tens of MB of resident memory while a
 * backlog drains).
 *
 * Buffers come in size classes of 64 KB up to `largest` bytes (bigger photos are allocated as
 * usual: they are re-encoded anyway). At most `keepBytes` of free buffers are kept. A buffer is
 * given back at most once, and only one this pool lent; anything else is ignored (a buffer never
 * given back is collected by V8 as any other).
 */

const CLASS = 64 * 1024;

export interface PhotoBuffersStats {
  /** Buffers lent that were reused rather than allocated. */
  reused: number;
  allocated: number;
  /** Bytes kept free for reuse now. */
  freeBytes: number;
}

export class PhotoBuffers {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly lent = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;
  private reused = 0;
  private allocated = 0;

  constructor(
    private readonly largest: number,
    private readonly keepBytes: number,
  ) {}

  /** A buffer of exactly `size` bytes (contents undefined), from the pool when it can be. */
  take(size: number): Buffer {
    if (size <= 0 || size > this.largest) return Buffer.allocUnsafe(size);
    const capacity = Math.ceil(size / CLASS) * CLASS;
    const list = this.free.get(capacity);
    let memory = list?.pop();
    if (memory) {
      this.freeBytes -= capacity;
      this.reused++;
    } else {
      memory = new ArrayBuffer(capacity);
      this.allocated++;
    }
    this.lent.add(memory);
    return Buffer.from(memory, 0, size);
  }

  /** Gives back a buffer `take` lent, once its bytes are no longer needed anywhere. */
  give(bytes: Uint8Array): void {
    const memory = bytes.buffer;
    if (!(memory instanceof ArrayBuffer) || !this.lent.has(memory)) return;
    this.lent.delete(memory);
    if (this.freeBytes + memory.byteLength > this.keepBytes) return;
    const list = this.free.get(memory.byteLength);
    if (list) list.push(memory);
    else this.free.set(memory.byteLength, [memory]);
    this.freeBytes += memory.byteLength;
  }

  stats(): PhotoBuffersStats {
    return { reused: this.reused, allocated: this.allocated, freeBytes: this.freeBytes };
  }
}
