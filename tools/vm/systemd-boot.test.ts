/**
 * The init script's systemd hand-over. The boot itself (systemd as PID 1 on cgroup v2, only this
 * unit started) is asserted by the one VM run that needs it,
 * packages/kubelet/test/real/vm/systemd-driver.test.ts: a second boot here cost ~100 CPU-s of
 * TCG on the suite's critical path (issue #50).
 */
import { describe, expect, it } from 'vitest';
import { initScript } from './init-script';
import { systemdService } from './systemd-boot';

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
