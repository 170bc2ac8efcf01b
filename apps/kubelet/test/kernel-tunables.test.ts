import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  desiredKernelTunables,
  kubeletSysctlRoot,
  procSysctls,
  runningInUserNamespace,
  type Sysctls,
  setupKernelTunables,
} from '../src/kernel-tunables';
import { applyKernelTunables, StartupRefusedError } from '../src/startup-checks';

// Every test works on a directory of its own standing in for /proc/sys: none reads or writes the
// host's kernel settings (the suite runs as root on shared CI hosts).
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), `na-sysctl-${process.pid}-`));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The sysctl files under `root`, with `values` (flag → text) over upstream's desired values. */
async function writeTree(values: Record<string, string> = {}): Promise<void> {
  for (const [flag, value] of desiredKernelTunables) {
    await mkdir(dirname(join(root, flag)), { recursive: true });
    await writeFile(join(root, flag), values[flag] ?? `${value}\n`);
  }
}

/** This machine's typical differences from upstream's values (a stock distribution's defaults). */
const stockDistribution = {
  'vm/overcommit_memory': '0\n',
  'kernel/panic': '0\n',
  'kernel/panic_on_oops': '0\n',
  'kernel/keys/root_maxkeys': '200\n',
};

function recordingLogger() {
  const lines: { level: string; msg?: string; obj: object }[] = [];
  return {
    lines,
    error: (obj: object, msg?: string) => lines.push({ level: 'error', obj, msg }),
    debug: (obj: object, msg?: string) => lines.push({ level: 'debug', obj, msg }),
  };
}

const options = (logger = recordingLogger()) => ({
  protectKernelDefaults: false,
  kubeletInUserNamespace: false,
  inUserNamespace: async () => false,
  logger,
});

describe('kernel tunables at the container manager start', () => {
  it('has upstream v1.36 desired values', () => {
    expect(Object.fromEntries(desiredKernelTunables)).toEqual({
      'vm/overcommit_memory': 1,
      'vm/panic_on_oom': 0,
      'kernel/panic': 10,
      'kernel/panic_on_oops': 1,
      'kernel/keys/root_maxkeys': 1000000,
      'kernel/keys/root_maxbytes': 25000000,
    });
  });

  it('writes each differing value (protectKernelDefaults false), logging V(2) "Updating kernel flag"', async () => {
    await writeTree(stockDistribution);
    const logger = recordingLogger();
    await expect(setupKernelTunables(procSysctls(root), options(logger))).resolves.toBeUndefined();
    for (const [flag, value] of desiredKernelTunables)
      expect(await readFile(join(root, flag), 'utf8')).toMatch(new RegExp(`^${value}\\n?$`));
    // Written as Go's os.WriteFile writes: the decimal text alone.
    expect(await readFile(join(root, 'vm/overcommit_memory'), 'utf8')).toBe('1');
    // An equal value is left as it was (its newline too).
    expect(await readFile(join(root, 'vm/panic_on_oom'), 'utf8')).toBe('0\n');
    expect(logger.lines).toEqual([
      {
        level: 'debug',
        msg: 'Updating kernel flag',
        obj: { flag: 'vm/overcommit_memory', expectedValue: 1, actualValue: 0 },
      },
      {
        level: 'debug',
        msg: 'Updating kernel flag',
        obj: { flag: 'kernel/panic', expectedValue: 10, actualValue: 0 },
      },
      {
        level: 'debug',
        msg: 'Updating kernel flag',
        obj: { flag: 'kernel/panic_on_oops', expectedValue: 1, actualValue: 0 },
      },
      {
        level: 'debug',
        msg: 'Updating kernel flag',
        obj: { flag: 'kernel/keys/root_maxkeys', expectedValue: 1000000, actualValue: 200 },
      },
    ]);
  });

  it('writes nothing with protectKernelDefaults and names every difference in upstream aggregated error', async () => {
    await writeTree({ ...stockDistribution, 'kernel/panic': '-1\n' });
    const before = await stat(join(root, 'vm/overcommit_memory'));
    const error = await setupKernelTunables(procSysctls(root), { ...options(), protectKernelDefaults: true });
    expect(error).toBe(
      '[invalid kernel flag: vm/overcommit_memory, expected value: 1, actual value: 0, ' +
        'invalid kernel flag: kernel/panic, expected value: 10, actual value: -1, ' +
        'invalid kernel flag: kernel/panic_on_oops, expected value: 1, actual value: 0, ' +
        'invalid kernel flag: kernel/keys/root_maxkeys, expected value: 1000000, actual value: 200]',
    );
    expect(await readFile(join(root, 'vm/overcommit_memory'), 'utf8')).toBe('0\n');
    expect((await stat(join(root, 'vm/overcommit_memory'))).mtimeMs).toBe(before.mtimeMs);
  });

  it('passes protectKernelDefaults when every value is upstream', async () => {
    await writeTree({ 'kernel/panic': ' 10 \n' });
    await expect(
      setupKernelTunables(procSysctls(root), { ...options(), protectKernelDefaults: true }),
    ).resolves.toBeUndefined();
  });

  it('counts a missing or non-integer sysctl as an error either way, with Go error text', async () => {
    await writeTree({ 'vm/panic_on_oom': 'often\n' });
    await rm(join(root, 'kernel/keys'), { recursive: true });
    const error = await setupKernelTunables(procSysctls(root), options());
    expect(error).toBe(
      '[strconv.Atoi: parsing "often": invalid syntax, ' +
        `open ${root}/kernel/keys/root_maxkeys: no such file or directory, ` +
        `open ${root}/kernel/keys/root_maxbytes: no such file or directory]`,
    );
    // Nothing was created for the unreadable ones.
    await expect(stat(join(root, 'kernel/keys'))).rejects.toThrow();
  });

  it('fails on a write that fails (read-only /proc/sys) outside a user namespace, as upstream', async () => {
    const logger = recordingLogger();
    const error = await setupKernelTunables(readOnly({ 'vm/overcommit_memory': 0 }), options(logger));
    expect(error).toBe('open /proc/sys/vm/overcommit_memory: read-only file system');
    expect(logger.lines.map((l) => l.msg)).toEqual(['Updating kernel flag']);
  });

  it('in a user namespace: hints at the gate and fails without it; logs and goes on with it', async () => {
    const withoutGate = recordingLogger();
    const error = await setupKernelTunables(readOnly({ 'kernel/panic': 0 }), {
      ...options(withoutGate),
      inUserNamespace: async () => true,
    });
    expect(error).toBe('open /proc/sys/kernel/panic: read-only file system');
    expect(withoutGate.lines.at(-1)).toEqual({
      level: 'error',
      msg: 'Updating kernel flag failed (Hint: enable KubeletInUserNamespace feature flag to ignore the error)',
      obj: { err: 'open /proc/sys/kernel/panic: read-only file system', flag: 'kernel/panic' },
    });
    const withGate = recordingLogger();
    await expect(
      setupKernelTunables(readOnly({ 'kernel/panic': 0 }), {
        ...options(withGate),
        inUserNamespace: async () => true,
        kubeletInUserNamespace: true,
      }),
    ).resolves.toBeUndefined();
    expect(withGate.lines.at(-1)).toEqual({
      level: 'debug',
      msg: 'Updating kernel flag failed (running in UserNS, ignoring)',
      obj: { flag: 'kernel/panic', err: 'open /proc/sys/kernel/panic: read-only file system' },
    });
  });

  it('turns a failure into the refusal upstream exits 1 with ("Failed to start ContainerManager")', async () => {
    await writeTree({ 'vm/panic_on_oom': '1\n' });
    const config = { protectKernelDefaults: true, featureGates: {} };
    const error = await applyKernelTunables(config, silentLogger, procSysctls(root)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupRefusedError);
    expect((error as StartupRefusedError).field).toBe('protectKernelDefaults');
    expect((error as StartupRefusedError).message).toBe(
      'Failed to start ContainerManager: invalid kernel flag: vm/panic_on_oom, expected value: 0, actual value: 1',
    );
    await applyKernelTunables({ ...config, protectKernelDefaults: false }, silentLogger, procSysctls(root));
    expect(await readFile(join(root, 'vm/panic_on_oom'), 'utf8')).toBe('0');
    await expect(applyKernelTunables(config, silentLogger, procSysctls(root))).resolves.toBeUndefined();
  });
});

const silentLogger = { info() {}, warn() {}, error() {} };

/** Sysctls readable with `values` (others at upstream's) whose every write fails as on a read-only /proc/sys. */
function readOnly(values: Record<string, number>): Sysctls {
  const desired = Object.fromEntries(desiredKernelTunables);
  return {
    get: async (flag) => values[flag] ?? (desired[flag] as number),
    set: async (flag) => {
      throw new Error(`open /proc/sys/${flag}: read-only file system`);
    },
  };
}

describe('kernel tunables helpers', () => {
  it('tells the initial user namespace from another by /proc/self/uid_map', () => {
    expect(runningInUserNamespace('         0          0 4294967295\n')).toBe(false);
    expect(runningInUserNamespace('         0       1000          1\n')).toBe(true);
    expect(runningInUserNamespace('')).toBe(true);
    expect(runningInUserNamespace(undefined)).toBe(false);
    expect(runningInUserNamespace('garbage')).toBe(false);
  });

  it('reads /proc/sys unless NODEAGENT_KUBELET_SYSCTL_ROOT names another directory', () => {
    expect(kubeletSysctlRoot({})).toBe('/proc/sys');
    expect(kubeletSysctlRoot({ NODEAGENT_KUBELET_SYSCTL_ROOT: '' })).toBe('/proc/sys');
    expect(kubeletSysctlRoot({ NODEAGENT_KUBELET_SYSCTL_ROOT: '/tmp/x' })).toBe('/tmp/x');
  });

  it('reports the write error Go os.WriteFile would, with the path under the root', async () => {
    // A directory where the file should be: the open for writing fails (EISDIR) even as root.
    await mkdir(join(root, 'vm/overcommit_memory'), { recursive: true });
    // (The reason is libuv's words; Go's differ for EISDIR alone of the errors a sysctl write meets.)
    await expect(procSysctls(root).set('vm/overcommit_memory', 1)).rejects.toThrow(
      new RegExp(`^open ${root}/vm/overcommit_memory: \\S`),
    );
  });
});
