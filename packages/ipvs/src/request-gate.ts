/**
 * Admission control for one netlink socket, strictly first in, first out (so the kernel sees
 * requests in the order they were made):
 *  - at most `limit` messages in flight (a batch weighs as many messages as it carries), so a
 *    burst cannot overflow the socket's receive buffer with replies the kernel would then drop;
 *  - a dump runs alone: the kernel allows one dump per socket, and its multipart reply must not
 *    interleave with other replies.
 */
export class RequestGate {
  private active = 0;
  private exclusiveActive = false;
  private readonly waiting: { exclusive: boolean; weight: number; start: () => void }[] = [];

  constructor(private readonly limit = 256) {}

  run<T>(fn: () => Promise<T>, exclusive = false, weight = 1): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.active += weight;
        if (exclusive) this.exclusiveActive = true;
        fn()
          .then(resolve, reject)
          .finally(() => {
            this.active -= weight;
            if (exclusive) this.exclusiveActive = false;
            this.pump();
          });
      };
      this.waiting.push({ exclusive, weight, start });
      this.pump();
    });
  }

  private pump(): void {
    while (this.waiting.length > 0 && !this.exclusiveActive) {
      const next = this.waiting[0]!;
      // Something heavier than the limit still runs, alone.
      const fits = this.active === 0 || (!next.exclusive && this.active + next.weight <= this.limit);
      if (!fits) return;
      this.waiting.shift();
      next.start();
    }
  }
}
