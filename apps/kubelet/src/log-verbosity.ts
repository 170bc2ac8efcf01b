import type { KubeletLogger } from '@nodeagent/kubelet';

/** klog's verbosity (-v) as a pino level: 0-1 info, 2-3 debug, 4 and above trace. */
export function pinoLevel(verbosity: number): 'info' | 'debug' | 'trace' {
  return verbosity >= 4 ? 'trace' : verbosity >= 2 ? 'debug' : 'info';
}

/**
 * What /debug/flags/v applies a new verbosity with: the logger's level when it has one (pino's
 * `level`), as -v set it at start; a logger without a level has nothing to change.
 */
export function verbositySetter(logger: KubeletLogger): (verbosity: number) => void {
  return (verbosity) => {
    const leveled = logger as KubeletLogger & { level?: string };
    if (typeof leveled.level === 'string') leveled.level = pinoLevel(verbosity);
  };
}
