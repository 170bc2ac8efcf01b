/**
 * Hands out the lowest free number of a range [first, last], as a scan from `first` would, in
 * amortized constant work per allocation: every number below `frontier` was seen taken once,
 * and the ones freed since then wait in a min-heap. Numbers are counted (two holders of one
 * number free it only when both release it), because stored objects may share one.
 */
export class LowestFreeAllocator {
  private readonly holders = new Map<number, number>();
  /** Every number in [first, frontier) was taken when the frontier passed it. */
  private frontier: number;
  /** Numbers below the frontier released since; may hold stale (taken again) entries. */
  private readonly freed: number[] = [];
  private examined = 0;

  constructor(
    private readonly first: number,
    private readonly last: number,
  ) {
    this.frontier = first;
  }

  /** How many candidates allocations have looked at so far (tests pin it linear in allocations). */
  get candidatesExamined(): number {
    return this.examined;
  }

  /** Whether `n` is held. */
  isTaken(n: number): boolean {
    return this.holders.has(n);
  }

  /** Records one more holder of `n` (any number; ones outside the range are only counted). */
  take(n: number): void {
    this.holders.set(n, (this.holders.get(n) ?? 0) + 1);
  }

  /** Drops one holder of `n`; when it was the last, `n` is free again. */
  release(n: number): void {
    const count = this.holders.get(n);
    if (count === undefined) return;
    if (count > 1) {
      this.holders.set(n, count - 1);
      return;
    }
    this.holders.delete(n);
    if (n >= this.first && n < this.frontier) heapPush(this.freed, n);
  }

  /** The lowest free number, taken; undefined when the range is exhausted. */
  allocate(): number | undefined {
    while (this.freed.length > 0) {
      const n = heapPop(this.freed);
      this.examined++;
      if (!this.holders.has(n)) {
        this.take(n);
        return n;
      }
    }
    while (this.frontier <= this.last) {
      const n = this.frontier++;
      this.examined++;
      if (!this.holders.has(n)) {
        this.take(n);
        return n;
      }
    }
    return undefined;
  }
}

function heapPush(heap: number[], n: number): void {
  heap.push(n);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if ((heap[parent] as number) <= n) break;
    heap[i] = heap[parent] as number;
    i = parent;
  }
  heap[i] = n;
}

function heapPop(heap: number[]): number {
  const top = heap[0] as number;
  const last = heap.pop() as number;
  if (heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && (heap[right] as number) < (heap[left] as number) ? right : left;
    if ((heap[child] as number) >= last) break;
    heap[i] = heap[child] as number;
    i = child;
  }
  heap[i] = last;
  return top;
}
