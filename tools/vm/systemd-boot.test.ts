import { describe, expect, it } from 'vitest';
import { initScript } from './init-script';
import { systemdService } from './systemd-boot';
import { runInVm, VM_TEST_TIMEOUT_MS } from './vm';

describe('init script', () => {
  it('hands over to systemd only when asked, with the units under /run/systemd/system', () => {
    const plain = initScript(['virtiofs']);
    expect(plain).toContain('exec switch_root /newroot /bin/sh /run/vmio/run.sh');
    expect(plain).not.toContain('systemd');
    const systemd = initScript(['virtiofs'], undefined, 'systemd');
    expect(systemd).toContain('exec switch_root /newroot /lib/systemd/systemd');
    expect(systemd).not.toContain('switch_root /newroot /bin/sh');
    expect(systemd).toContain(`cat > /newroot/run/systemd/system/${systemdService} <<'UNIT'`);
    expect(systemd).toContain('ExecStart=/bin/sh /run/vmio/run.sh');
  });
});

describe("runInVm({ init: 'systemd' }): systemd as PID 1 on cgroup v2", () => {
  it(
    'runs the command as its service, with /run/systemd/system, systemctl answering and nothing else started',
    async () => {
      const script = [
        'echo "pid1=$(cat /proc/1/comm)"',
        'echo "fs=$(stat -f -c %T /sys/fs/cgroup)"',
        'test -d /run/systemd/system && echo booted=yes',
        'echo "self=$(cat /proc/self/cgroup)"',
        'echo "active=$(systemctl is-active nodeagent-vm.service)"',
        // The host's enabled services (containerd, postgresql...) are not pulled in.
        'echo "containerd=$(systemctl is-active containerd.service)"',
        'echo "services=$(systemctl list-units --type=service --state=active --no-legend --plain | wc -l)"',
      ].join('; ');
      // A systemd boot under TCG on a loaded host took 2–5 min (load ~120): a boot limit to match.
      const r = await runInVm({
        command: 'sh',
        args: ['-c', script],
        init: 'systemd',
        timeoutMs: 60_000,
        bootTimeoutMs: 600_000,
      });
      const values = Object.fromEntries(
        r.stdout
          .trim()
          .split('\n')
          .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
      );
      console.log(
        `systemd boot: ${r.bootMs} ms to run.sh (factor ${r.speedFactor}), ${r.durationMs} ms in all; ${JSON.stringify(values)}`,
      );
      expect(r.exitCode, `${r.stderr}\n${r.console}`).toBe(0);
      expect(values.pid1).toBe('systemd');
      expect(values.fs).toBe('cgroup2fs');
      expect(values.booted).toBe('yes');
      expect(values.self).toBe(`0::/system.slice/${systemdService}`);
      expect(values.active).toBe('active');
      expect(values.containerd).toBe('inactive');
      // This service and at most systemd's own few (journald may be socket-activated).
      expect(Number(values.services)).toBeLessThanOrEqual(3);
    },
    VM_TEST_TIMEOUT_MS,
  );
});
