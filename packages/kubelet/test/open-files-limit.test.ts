import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyMaxOpenFiles,
  type OpenFilesLimit,
  parseOpenFilesLimit,
  setOpenFilesLimitFailedMessage,
} from '../src/cgroups/open-files-limit';

const tsxCli = join(import.meta.dirname, '..', '..', '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
const child = join(import.meta.dirname, 'fixtures', 'open-files-limit-child.ts');

const limitsText = (soft: string, hard: string) =>
  `Limit                     Soft Limit           Hard Limit           Units     \n` +
  `Max processes             63704                63704                processes \n` +
  `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     \n`;

/** A logger that keeps what it is given. */
function recordingLogger() {
  const errors: { fields: object; message: string | undefined }[] = [];
  return {
    errors,
    logger: { error: (fields: object, message?: string) => errors.push({ fields, message }) },
  };
}

describe('maxOpenFiles: the kubelet process RLIMIT_NOFILE (upstream RunKubelet, rlimit.SetNumFiles)', () => {
  it('reads soft and hard from /proc/<pid>/limits, unlimited as undefined', () => {
    expect(parseOpenFilesLimit(limitsText('1024', '524288'))).toEqual({ soft: 1024, hard: 524288 });
    expect(parseOpenFilesLimit(limitsText('unlimited', 'unlimited'))).toEqual({
      soft: undefined,
      hard: undefined,
    });
    expect(parseOpenFilesLimit('Limit Soft Hard\n')).toBeUndefined();
  });

  it('skips setrlimit (and so koffi) when soft and hard already equal the value', async () => {
    const set: number[] = [];
    const { errors, logger } = recordingLogger();
    const called = await applyMaxOpenFiles(1_000_000, logger, {
      readLimits: async () => limitsText('1000000', '1000000'),
      setLimit: async (value) => void set.push(value),
    });
    expect({ called, set, errors }).toEqual({ called: false, set: [], errors: [] });
  });

  it.each([
    ['soft differs', '1024', '1000000'],
    ['hard differs', '1000000', '1048576'],
    ['unlimited', 'unlimited', 'unlimited'],
  ])('calls setrlimit with the value when %s', async (_, soft, hard) => {
    const set: number[] = [];
    const called = await applyMaxOpenFiles(1_000_000, recordingLogger().logger, {
      readLimits: async () => limitsText(soft, hard),
      setLimit: async (value) => void set.push(value),
    });
    expect({ called, set }).toEqual({ called: true, set: [1_000_000] });
  });

  it('logs a failure with upstream message and the error text, and goes on (no throw)', async () => {
    const { errors, logger } = recordingLogger();
    await applyMaxOpenFiles(5, logger, {
      readLimits: async () => {
        throw new Error('no /proc');
      },
      setLimit: async () => {
        throw new Error('operation not permitted');
      },
    });
    expect(errors).toEqual([
      { fields: { err: 'operation not permitted' }, message: 'Failed to set rlimit on max file handles' },
    ]);
    expect(setOpenFilesLimitFailedMessage).toBe('Failed to set rlimit on max file handles');
  });
});

interface ChildReport {
  called: boolean;
  errors: { fields: { err?: string }; message: string }[];
  limits: OpenFilesLimit;
  koffiMapped: boolean;
}

/** Whether this process (and so its children) may raise a hard limit: CAP_SYS_RESOURCE (bit 24) in CapEff. */
function hasCapSysResource(): boolean {
  const capEff = /^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return ((BigInt(`0x${capEff}`) >> 24n) & 1n) === 1n;
}

/** The child fixture run under `prlimit --nofile=soft:hard`, applying `maxOpenFiles`. */
function runChild(soft: number, hard: number, maxOpenFiles: number): ChildReport {
  const run = spawnSync(
    'prlimit',
    [
      `--nofile=${soft}:${hard}`,
      '--',
      process.execPath,
      tsxCli,
      '--conditions=@nodeagent/source',
      child,
      String(maxOpenFiles),
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as ChildReport;
}

describe('maxOpenFiles in a real process (libc setrlimit through koffi)', () => {
  it('lowers soft and hard to the value (allowed without privileges)', () => {
    const report = runChild(4096, 8192, 3000);
    expect(report).toEqual({
      called: true,
      errors: [],
      limits: { soft: 3000, hard: 3000 },
      koffiMapped: true,
    });
  });

  it('leaves limits that already match alone, without loading koffi', () => {
    expect(runChild(3000, 3000, 3000)).toEqual({
      called: false,
      errors: [],
      limits: { soft: 3000, hard: 3000 },
      koffiMapped: false,
    });
  });

  it('raises the hard limit with CAP_SYS_RESOURCE; without it (so root in this container), logs EPERM', () => {
    const report = runChild(1024, 2048, 4096);
    if (hasCapSysResource()) {
      expect(report.limits).toEqual({ soft: 4096, hard: 4096 });
      expect(report.errors).toEqual([]);
    } else {
      expect(report.limits).toEqual({ soft: 2048, hard: 2048 });
      expect(report.errors[0]?.fields.err).toBe('operation not permitted');
    }
  });

  it('past fs.nr_open (EPERM even for root): upstream message, limits unchanged, the process goes on', () => {
    const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
    const report = runChild(2048, 2048, nrOpen + 1);
    expect(report).toEqual({
      called: true,
      errors: [
        { fields: { err: 'operation not permitted' }, message: 'Failed to set rlimit on max file handles' },
      ],
      limits: { soft: 2048, hard: 2048 },
      koffiMapped: true,
    });
  });
});
