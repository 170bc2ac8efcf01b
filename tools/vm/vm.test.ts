import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findGuestKernel, hostTscKhz } from './kernel';
import { shellQuote } from './run-script';
import {
  REFERENCE_BOOT_MS,
  runInVm,
  speedFactor,
  VM_TEST_TIMEOUT_MS,
  VmBootError,
  VmPrerequisiteError,
  VmTimeoutError,
} from './vm';

function leftovers(): { dirs: string[]; processes: string[] } {
  const dirs = readdirSync(tmpdir()).filter((d) => d.startsWith(`na-vm-${process.pid}-`));
  const ps = execFileSync('ps', ['-eo', 'ppid=,args='], { encoding: 'utf8' });
  const processes = ps
    .split('\n')
    .filter((l) => l.trim().startsWith(`${process.pid} `) && /qemu-system|virtiofsd|unshare/.test(l));
  return { dirs, processes };
}

describe('helpers', () => {
  it('quotes arguments so the guest shell passes them verbatim', () => {
    const tricky = `it's "$HOME" \`x\` \\ ;`;
    const out = execFileSync('sh', ['-c', `printf %s ${shellQuote(tricky)}`], { encoding: 'utf8' });
    expect(out).toBe(tricky);
  });

  it('scales limits by how much slower than an idle machine the boot was, within bounds', () => {
    expect(speedFactor(REFERENCE_BOOT_MS)).toBe(1);
    expect(speedFactor(REFERENCE_BOOT_MS / 2)).toBe(1);
    expect(speedFactor(REFERENCE_BOOT_MS * 2.5)).toBe(2.5);
    expect(speedFactor(REFERENCE_BOOT_MS * 1000)).toBe(20);
    expect(speedFactor(0)).toBe(1);
    expect(speedFactor(Number.NaN)).toBe(1);
  });

  it('finds the newest cloud kernel in the unpacked cache before an installed one, and names the fix when there is none', () => {
    const base = mkdtempSync(join(tmpdir(), `na-vm-kernel-${process.pid}-`));
    try {
      const tree = (root: string, ...versions: string[]) => {
        for (const v of versions) {
          mkdirSync(join(base, root, 'boot'), { recursive: true });
          mkdirSync(join(base, root, 'lib', 'modules', v), { recursive: true });
          writeFileSync(join(base, root, 'boot', `vmlinuz-${v}`), '');
        }
        return join(base, root);
      };
      const cache = tree('cache', '6.1.0-9-cloud-amd64', '6.1.0-10-cloud-amd64');
      const host = tree('host', '6.1.0-56-cloud-amd64');
      expect(findGuestKernel([cache, host])).toEqual({
        version: '6.1.0-10-cloud-amd64',
        image: join(cache, 'boot', 'vmlinuz-6.1.0-10-cloud-amd64'),
        root: cache,
        modulesDir: join(cache, 'lib', 'modules', '6.1.0-10-cloud-amd64'),
      });
      expect(findGuestKernel([join(base, 'absent'), host]).root).toBe(host);
      expect(() => findGuestKernel([join(base, 'absent')])).toThrow(/node tools\/install-deps\.mjs/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('reads the TSC frequency from cpuinfo', () => {
    expect(hostTscKhz('processor\t: 0\ncpu MHz\t\t: 2596.138\n')).toBe(2596138);
    expect(() => hostTscKhz('processor: 0\n')).toThrow(/cpu MHz/);
  });
});

describe('runInVm (boots the cloud kernel under qemu)', () => {
  it(
    'runs a command, streams its output, propagates the exit code and loads ip_vs',
    async () => {
      const chunks: string[] = [];
      const script = [
        'echo first',
        'sleep 1',
        'echo "cwd=$(pwd) marker=$MARKER" ',
        'echo "speed=$NODEAGENT_VM_SPEED_FACTOR"',
        'echo to-stderr >&2',
        'touch /tmp/w && echo tmp-writable',
        'touch /var/w && echo var-writable',
        'touch /usr/w 2>/dev/null || echo root-read-only',
        'modprobe ip_vs && grep -c ^ip_vs /proc/modules >/dev/null && echo ip_vs-loaded',
        'ipvsadm -Ln | head -1',
        'exit 7',
      ].join('\n');
      const result = await runInVm({
        command: 'sh',
        args: ['-c', script],
        cwd: '/usr',
        env: { MARKER: "a b'c" },
        timeoutMs: 90_000,
        onStdout: (c) => chunks.push(c.toString()),
      });
      expect(result.exitCode).toBe(7);
      expect(result.stdout).toContain("cwd=/usr marker=a b'c");
      expect(result.stdout).toContain('tmp-writable\nvar-writable\nroot-read-only\nip_vs-loaded\n');
      expect(result.stdout).toMatch(/IP Virtual Server version \d+\.\d+\.\d+/);
      expect(result.stderr).toBe('to-stderr\n');
      // The guest got the factor the host measured from this boot.
      expect(result.speedFactor).toBe(speedFactor(result.bootMs));
      expect(result.stdout).toContain(`speed=${result.speedFactor}\n`);
      // Streamed: the line before the `sleep` arrived in a chunk of its own.
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks[0]).toBe('first\n');
      expect(chunks.join('')).toBe(result.stdout);
      expect(leftovers()).toEqual({ dirs: [], processes: [] });
    },
    VM_TEST_TIMEOUT_MS,
  );

  it(
    'kills the VM on timeout and cleans up',
    async () => {
      const err = await runInVm({
        command: 'sh',
        args: ['-c', 'echo started; sleep 600'],
        cwd: '/',
        // Scaled by the speed factor like any limit, so a busy machine still prints `started` in
        // time; it is waited out in full, so it is short.
        timeoutMs: 3_000,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VmTimeoutError);
      expect((err as VmTimeoutError).code).toBe('VM_TIMEOUT');
      expect((err as VmTimeoutError).phase).toBe('command');
      // The limit that ran out is the given one scaled by this run's speed factor.
      expect((err as VmTimeoutError).timeoutMs).toBe(Math.round(3_000 * (err as VmTimeoutError).speedFactor));
      expect((err as VmTimeoutError).stdout).toBe('started\n');
      // The message carries where the guest stopped, for a CI log that shows only the message.
      expect((err as VmTimeoutError).message).toContain('stdout ends: started');
      expect(leftovers()).toEqual({ dirs: [], processes: [] });
    },
    VM_TEST_TIMEOUT_MS,
  );

  it(
    "takes the guest's exit status when qemu does not exit after it (killed after exitGraceMs)",
    async () => {
      // As run.sh ends, but without the reset: qemu goes on running, as it once did for 20 minutes
      // after a guest's "sysrq: Resetting".
      const result = await runInVm({
        command: 'sh',
        args: ['-c', 'echo wrote; echo 5 >/run/vmio/exit; sleep 600'],
        cwd: '/',
        timeoutMs: 300_000,
        exitGraceMs: 1_000,
      });
      expect(result.exitCode).toBe(5);
      expect(result.stdout).toBe('wrote\n');
      expect(leftovers()).toEqual({ dirs: [], processes: [] });
    },
    VM_TEST_TIMEOUT_MS,
  );

  it(
    'removes its run dir and its daemons when qemu cannot be started or exits at once',
    async () => {
      // A binary that is not there: spawn's 'error', never 'exit' (before, an uncaught 'error' and
      // a wait that never ended, so the run dir stayed).
      const missing = join(tmpdir(), `na-vm-no-qemu-${process.pid}-${Date.now()}`);
      const notStarted = await runInVm({ command: 'true', cwd: '/', qemuBinary: missing }).catch(
        (e: unknown) => e,
      );
      expect(notStarted).toBeInstanceOf(VmPrerequisiteError);
      expect((notStarted as VmPrerequisiteError).message).toContain('could not be started');
      expect((notStarted as VmPrerequisiteError).message).toContain('ENOENT');
      expect(leftovers()).toEqual({ dirs: [], processes: [] });
      // A qemu that starts and exits 1 before the guest ever ran.
      const exitedAtOnce = await runInVm({ command: 'true', cwd: '/', qemuBinary: 'false' }).catch(
        (e: unknown) => e,
      );
      expect(exitedAtOnce).toBeInstanceOf(VmBootError);
      expect((exitedAtOnce as VmBootError).message).toContain('qemu exit 1');
      expect(leftovers()).toEqual({ dirs: [], processes: [] });
    },
    VM_TEST_TIMEOUT_MS,
  );

  it(
    'fails a boot that does not finish within bootTimeoutMs',
    async () => {
      const err = await runInVm({ command: 'true', cwd: '/', bootTimeoutMs: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VmTimeoutError);
      expect((err as VmTimeoutError).phase).toBe('boot');
      expect(leftovers()).toEqual({ dirs: [], processes: [] });
    },
    VM_TEST_TIMEOUT_MS,
  );
});
