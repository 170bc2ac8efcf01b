import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { serviceSection } from '../sea/systemd-unit.mjs';

/** The unit deploy/systemd ships for each agent. */
const UNITS = {
  kubelet: 'deploy/systemd/nodeagent-kubelet.service',
  'kube-proxy': 'deploy/systemd/nodeagent-kube-proxy.service',
} as const;

/** How an agent's unit starts it, as the soak reproduces it. */
export interface UnitStart {
  /** The unit's path in the repository. */
  unit: string;
  /** Its `Environment=` variables but NODE_OPTIONS. */
  env: Record<string, string>;
  /** Its NODE_OPTIONS, to which the bench adds its own preload. */
  nodeOptions: string;
  /** Its LimitNOFILE. */
  limitNofile: number;
  /** The open-files limit the bench sets: LimitNOFILE, or the most this process may set (a container's hard limit). */
  nofile: number;
}

/** Reads `agent`'s unit under `repoRoot`, so the soak starts the executable with what the unit sets. */
export function unitStart(repoRoot: string, agent: keyof typeof UNITS): UnitStart {
  const unit = UNITS[agent];
  const { environment, settings } = serviceSection(join(repoRoot, unit));
  const { NODE_OPTIONS: nodeOptions = '', ...env } = environment;
  const limitNofile = Number(settings.LimitNOFILE);
  if (!Number.isInteger(limitNofile) || limitNofile <= 0)
    throw new Error(`${unit} has no whole LimitNOFILE (got ${JSON.stringify(settings.LimitNOFILE)})`);
  const hard = Number(execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim()) || limitNofile;
  return { unit, env, nodeOptions, limitNofile, nofile: Math.min(limitNofile, hard) };
}

/** `command args` run under prlimit with the unit's open-files limit. */
export function withNofile(start: UnitStart, command: string, args: string[]): [string, string[]] {
  return ['prlimit', [`--nofile=${start.nofile}:${start.nofile}`, '--', command, ...args]];
}
