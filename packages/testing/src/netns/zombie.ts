import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A process that has exited and stays unreaped until `release()`. */
export interface HeldZombie {
  pid: number;
  /** Kills the non-reaping parent; init then reaps both. */
  release(): void;
}

function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2];
  } catch {
    return undefined;
  }
}

/**
 * A zombie for tests of process liveness, as a killed process stays on a machine whose init reaps
 * orphans late: a shell starts a child, then execs into `sleep`, which never reaps it. The child
 * exits only once its parent has become `sleep` (a shell reaps children it sees finish before
 * its exec), so it is certain to stay a zombie.
 */
export async function holdZombie(): Promise<HeldZombie> {
  const script = '(while [ "$(cat /proc/$$/comm)" = sh ]; do sleep 0.01; done) & echo $!; exec sleep 600';
  const holder = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve, reject) => {
    holder.once('error', reject);
    holder.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  while (stateOf(pid) !== 'Z') {
    if (holder.exitCode !== null || stateOf(pid) === undefined) throw new Error(`zombie ${pid} was reaped`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { pid, release: () => holder.kill('SIGKILL') };
}
