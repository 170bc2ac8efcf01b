/**
 * Admission control for one netlink socket:
 *  - at most `limit` requests in flight, so a burst of thousands cannot overflow the socket's
 *    receive buffer with ACKs (the kernel would drop them and the requests would never settle);
 *  - a dump runs alone: the kernel allows one dump per socket, and its multipart reply must not
 *    interleave with other replies.
 */
export class RequestGate {
  private active = 0;
  private exclusiveActive = false;
  private readonly waiting: { exclusive: boolean; start: () => void }[] = [];

  constructor(private readonly limit = 256) {}

  run<T>(fn: () => Promise<T>, exclusive = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.active++;
        if (exclusive) this.exclusiveActive = true;
        fn()
          .then(resolve, reject)
          .finally(() => {
            this.active--;
            if (exclusive) this.exclusiveActive = false;
            this.pump();
          });
      };
      this.waiting.push({ exclusive, start });
      this.pump();
    });
  }

  private pump(): void {
    while (this.waiting.length > 0 && !this.exclusiveActive) {
      const next = this.waiting[0]!;
      if (next.exclusive ? this.active > 0 : this.active >= this.limit) return;
      this.waiting.shift();
      next.start();
    }
  }
}
