// Exact duplicate events: the export-stdout sidecar's `tail` re-emits up to 10 lines each time it
// restarts, and replays show up at rotation edges. A line whose bytes equal one of the last
// DEDUP_WINDOW distinct events is dropped (and counted); memory stays bounded (~100 bytes an entry).
import { hash } from 'node:crypto';

/** Distinct events remembered: far more than tail's 10 re-emitted lines, ~0.4 MB of digests. */
export const DEDUP_WINDOW = 4096;

export class RecentEvents {
  private readonly ring: (string | undefined)[];
  private readonly set = new Set<string>();
  private next = 0;

  constructor(private readonly window = DEDUP_WINDOW) {
    this.ring = new Array<string | undefined>(window);
  }

  /** Digest of an event's bytes (a collision would need SHA-1 to collide on two different events). */
  static digest(data: Buffer | string): string {
    return hash('sha1', data, 'base64');
  }

  has(digest: string): boolean {
    return this.set.has(digest);
  }

  /** Remembers `digest`, forgetting the oldest when the window is full. */
  add(digest: string): void {
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = digest;
    this.set.add(digest);
    this.next = (this.next + 1) % this.window;
  }
}
