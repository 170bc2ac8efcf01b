export interface WorkerPriorityOptions {
  /** Where the process's threads are listed (one directory per thread id, each with `comm`). */
  taskDir?: string;
  /** Sets one thread's nice (os.setPriority, which takes a thread id on Linux). */
  setPriority?: (id: number, nice: number) => void;
}
/** The name Node gives each of V8's platform worker threads. */
export declare const WORKER_NAME: string;
/** The ids of the process's V8 platform workers. */
export declare function workerThreadIds(taskDir?: string): number[];
/** Sets each V8 platform worker's nice; returns how many it set (a failure is a process warning). */
export declare function lowerWorkerPriority(nice: number, options?: WorkerPriorityOptions): number;
/** Lowers the workers' priority when the app emits 'nodeagent:started' on process. */
export declare function lowerWorkerPriorityAfterStart(nice: number, options?: WorkerPriorityOptions): void;
