import { describe, expect, it } from 'vitest';
import { parseKernelVersion, safeSysctlAllowlist } from '../src/admission/safe-sysctls';
import { SysctlAllowlist, sysctlPatternFormat } from '../src/admission/sysctl-allowlist';
import type { Pod } from '../src/api/pod-types';
import { sysctlNamespace, sysctlNameWithDots } from '../src/cri/sysctl-namespace';
import { InvalidConfigError } from '../src/errors';

const pod = (sysctls: string[], spec: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { name: 'p', namespace: 'default', uid: 'u' },
  spec: {
    containers: [{ name: 'app' }],
    securityContext: { sysctls: sysctls.map((name) => ({ name, value: '1' })) },
    ...spec,
  },
});

describe('safe sysctls', () => {
  it('keeps the kernel-version-conditioned entries only on kernels that namespace them', () => {
    const modern = safeSysctlAllowlist('6.1.0-18-amd64');
    expect(modern).toEqual([
      'kernel.shm_rmid_forced',
      'net.ipv4.ip_local_port_range',
      'net.ipv4.tcp_syncookies',
      'net.ipv4.ping_group_range',
      'net.ipv4.ip_unprivileged_port_start',
      'net.ipv4.ip_local_reserved_ports',
      'net.ipv4.tcp_keepalive_time',
      'net.ipv4.tcp_fin_timeout',
      'net.ipv4.tcp_keepalive_intvl',
      'net.ipv4.tcp_keepalive_probes',
      'net.ipv4.tcp_rmem',
      'net.ipv4.tcp_wmem',
    ]);
    // 4.5 namespaces the keepalive ones, not yet tcp_fin_timeout (4.6) nor tcp_rmem/wmem (4.15).
    const k45 = safeSysctlAllowlist('4.5.0');
    expect(k45).toContain('net.ipv4.tcp_keepalive_probes');
    expect(k45).not.toContain('net.ipv4.tcp_fin_timeout');
    expect(k45).not.toContain('net.ipv4.tcp_rmem');
    expect(safeSysctlAllowlist('4.14.300')).not.toContain('net.ipv4.tcp_wmem');
    expect(safeSysctlAllowlist('4.15')).toContain('net.ipv4.tcp_wmem');
    const k310 = safeSysctlAllowlist('3.10.0-1160.el7.x86_64');
    expect(k310).not.toContain('net.ipv4.ip_local_reserved_ports');
    expect(k310).toHaveLength(5);
    // An unreadable release keeps only the unconditional entries, as upstream.
    expect(safeSysctlAllowlist('unknown')).toEqual(modern.slice(0, 5));
  });

  it('parses kernel releases', () => {
    expect(parseKernelVersion('6.18.44-fc-v445')).toEqual([6, 18, 44]);
    expect(parseKernelVersion('v5.4')).toEqual([5, 4]);
    expect(parseKernelVersion('abc')).toBeUndefined();
  });
});

describe('sysctl namespaces', () => {
  it('knows the ipc and net sysctls', () => {
    expect(sysctlNamespace('kernel.sem')).toBe('ipc');
    expect(sysctlNamespace('kernel.shmmax')).toBe('ipc');
    expect(sysctlNamespace('kernel.msgmax')).toBe('ipc');
    expect(sysctlNamespace('fs.mqueue.msg_max')).toBe('ipc');
    expect(sysctlNamespace('net.core.somaxconn')).toBe('net');
    expect(sysctlNamespace('kernel.semaphore')).toBeUndefined();
    expect(sysctlNamespace('vm.swappiness')).toBeUndefined();
    expect(sysctlNamespace('fs.mqueue')).toBeUndefined();
  });

  it('reads slash-separated names as sysctl(8) does', () => {
    expect(sysctlNameWithDots('net/ipv4/conf/eno2.100/rp_filter')).toBe('net.ipv4.conf.eno2/100.rp_filter');
    expect(sysctlNameWithDots('net.ipv4.conf.eno2/100.rp_filter')).toBe('net.ipv4.conf.eno2/100.rp_filter');
    expect(sysctlNameWithDots('kernel')).toBe('kernel');
  });
});

describe('SysctlAllowlist', () => {
  const safe = safeSysctlAllowlist('6.1.0');

  it('admits safe sysctls and refuses the others with SysctlForbidden', () => {
    const list = new SysctlAllowlist(safe);
    expect(
      list.admit({ pod: pod(['net.ipv4.tcp_syncookies', 'kernel.shm_rmid_forced']), otherPods: [] }),
    ).toEqual({
      admit: true,
    });
    expect(list.admit({ pod: pod(['net.ipv4.tcp_syncookies', 'kernel.msgmax']), otherPods: [] })).toEqual({
      admit: false,
      reason: 'SysctlForbidden',
      message: 'forbidden sysctl: "kernel.msgmax" not allowlisted',
    });
    expect(list.check('net/ipv4/tcp_syncookies', false, false)).toBeUndefined();
  });

  it('takes exact unsafe names and prefix globs', () => {
    const list = new SysctlAllowlist([...safe, 'kernel.msg*', 'net.core.somaxconn', 'fs/mqueue/*']);
    expect(list.check('kernel.msgmax', false, false)).toBeUndefined();
    expect(list.check('kernel.msgmnb', false, false)).toBeUndefined();
    expect(list.check('net.core.somaxconn', false, false)).toBeUndefined();
    expect(list.check('fs.mqueue.msg_max', false, false)).toBeUndefined();
    expect(list.check('kernel.shmmax', false, false)).toBe('"kernel.shmmax" not allowlisted');
    expect(list.check('net.core.rmem_max', false, false)).toBe('"net.core.rmem_max" not allowlisted');
  });

  it('refuses net sysctls with hostNetwork and ipc sysctls with hostIPC, safe ones included', () => {
    const list = new SysctlAllowlist([...safe, 'kernel.msg*']);
    expect(
      list.admit({ pod: pod(['net.ipv4.ip_local_port_range'], { hostNetwork: true }), otherPods: [] }),
    ).toEqual({
      admit: false,
      reason: 'SysctlForbidden',
      message: 'forbidden sysctl: "net.ipv4.ip_local_port_range" not allowed with host net enabled',
    });
    expect(list.check('kernel.msgmax', false, true)).toBe(
      '"kernel.msgmax" not allowed with host ipc enabled',
    );
    expect(list.check('kernel.shm_rmid_forced', false, true)).toBe(
      '"kernel.shm_rmid_forced" not allowed with host ipc enabled',
    );
    // The other namespace shared with the host does not matter.
    expect(list.check('kernel.msgmax', true, false)).toBeUndefined();
    expect(list.check('net.ipv4.tcp_syncookies', false, true)).toBeUndefined();
  });

  it('refuses allowlist entries that are malformed or not namespaced, with upstream messages', () => {
    const error = (patterns: string[]) => {
      try {
        new SysctlAllowlist(patterns);
      } catch (e) {
        return e as InvalidConfigError;
      }
      throw new Error('no error');
    };
    const notNamespaced = error(['vm.swappiness']);
    expect(notNamespaced).toBeInstanceOf(InvalidConfigError);
    expect(notNamespaced.code).toBe('INVALID_CONFIG');
    expect(notNamespaced.field).toBe('allowedUnsafeSysctls');
    expect(notNamespaced.value).toBe('vm.swappiness');
    expect(notNamespaced.reason).toBe('the sysctl "vm.swappiness" are not known to be namespaced');
    expect(error(['kernel.*']).reason).toBe('the sysctls "kernel.*" are not known to be namespaced');
    expect(error(['Kernel.msgmax']).reason).toBe(
      `sysctl "Kernel.msgmax" must have at most 253 characters and match regex ${sysctlPatternFormat}`,
    );
    expect(error(['net.*.foo']).code).toBe('INVALID_CONFIG');
    expect(error([`net.${'a'.repeat(250)}`]).reason).toMatch(/at most 253 characters/);
    expect(() => new SysctlAllowlist(['net.*', 'kernel.sem', 'kernel.shm*'])).not.toThrow();
  });
});
