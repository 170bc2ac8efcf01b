import type { Worker } from 'node:worker_threads';
import type { CountsSnapshot } from './hollow-report';
import type { RestartWaveReport } from './restart-waves';
import type { FromWorker, ToWorker } from './worker-protocol';

/** How long a worker may take to stop its nodes before it is terminated (its nodes with it). */
const STOP_LIMIT_MS = 60_000;

/**
 * The parent's side of one worker thread: it sends the worker what to do and turns the plain
 * data the worker posts up into answers. Nothing of the worker calls into the parent but its
 * messages, and log lines go to `log`.
 */
export class WorkerShare {
  /** Resolves with how many nodes the worker started; rejects if it failed to. */
  readonly started: Promise<number>;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(m: FromWorker): void; reject(e: Error): void }>();
  private exited = false;
  private readonly exit: Promise<void>;
  private onStopped: ((error: string | undefined) => void) | undefined;

  constructor(
    private readonly worker: Worker,
    log: (line: string) => void,
  ) {
    let onStarted!: (nodes: number) => void;
    let onFailed!: (error: Error) => void;
    this.started = new Promise((resolve, reject) => {
      onStarted = resolve;
      onFailed = reject;
    });
    // Not every caller waits for start (a failed sibling): a failure here is reported by stop().
    this.started.catch(() => undefined);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'log') log(m.line);
      else if (m.type === 'started') onStarted(m.nodes);
      else if (m.type === 'failed') onFailed(new Error(m.error));
      else if (m.type === 'stopped') this.onStopped?.(m.error);
      else this.answer(m);
    });
    worker.on('error', (error) => {
      onFailed(error);
      this.failAll(error);
    });
    this.exit = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.exited = true;
        const gone = new Error(`hollow worker exited with code ${code}`);
        onFailed(gone);
        this.failAll(gone);
        this.onStopped?.(undefined);
        resolve();
      }),
    );
  }

  /** The worker's nodes' counts and running pods. */
  async counts(): Promise<CountsSnapshot> {
    const answer = await this.ask({ type: 'counts' });
    if (answer.type !== 'counts') throw new Error(`hollow worker answered ${answer.type} to counts`);
    return answer.snapshot;
  }

  /** Resolves once every node of the worker's has its kube-proxy synced (a wave's first step). */
  async steady(): Promise<void> {
    const answer = await this.ask({ type: 'steady' });
    if (answer.type !== 'steady') throw new Error(`hollow worker answered ${answer.type} to steady`);
  }

  /** Runs a restart wave over the worker's nodes and returns its report. */
  async wave(): Promise<RestartWaveReport> {
    const answer = await this.ask({ type: 'wave' });
    if (answer.type !== 'wave' || !answer.report) throw new Error(answer.type === 'wave' ? answer.error : '');
    return answer.report;
  }

  /** No further start-up wave in the worker: it reports the nodes already up as started. */
  abort(): void {
    if (!this.exited) this.send({ type: 'abort' });
  }

  /** Stops the worker's nodes, then the thread; rejects with the worker's stop failure. */
  async stop(): Promise<void> {
    if (this.exited) return;
    // A worker that failed to start has stopped what it had started: only the thread is left.
    const ran = await this.started.then(
      () => true,
      () => false,
    );
    if (!ran) return void (await this.worker.terminate());
    const stopped = new Promise<string | undefined>((resolve) => {
      this.onStopped = resolve;
    });
    this.send({ type: 'stop' });
    let limit: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => {
      limit = setTimeout(
        () => resolve(`hollow worker did not stop within ${STOP_LIMIT_MS / 1000} s`),
        STOP_LIMIT_MS,
      );
    });
    const error = await Promise.race([stopped, late]);
    clearTimeout(limit);
    await this.worker.terminate();
    await this.exit;
    if (error !== undefined) throw new Error(error);
  }

  private ask(question: { type: 'counts' } | { type: 'steady' } | { type: 'wave' }): Promise<FromWorker> {
    if (this.exited) return Promise.reject(new Error('hollow worker has exited'));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ ...question, id });
    });
  }

  private answer(m: FromWorker & { id: number }): void {
    const waiting = this.pending.get(m.id);
    this.pending.delete(m.id);
    waiting?.resolve(m);
  }

  private failAll(error: Error): void {
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }
}
