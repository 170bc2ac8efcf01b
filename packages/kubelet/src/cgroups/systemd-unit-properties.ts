import { type CgroupResources, cpuSharesToWeight } from './cgroup-resources';
import type { DbusValue } from './dbus-marshal';
import type { UnitProperty } from './systemd-manager';

function property(name: string, signature: string, value: DbusValue): UnitProperty {
  return { name, value: { signature, value } };
}

/** uint64 as systemd reads a Go int64 cast to uint64: -1 becomes "infinity" (2^64 − 1). */
function uint64(value: number): bigint {
  return BigInt.asUintN(64, BigInt(value));
}

/** systemd's CPUQuotaPeriodUSec exists from v242 on (libcontainer leaves it to the cgroup files before). */
const quotaPeriodSinceVersion = 242;
/** The kernel's default CFS period, which libcontainer assumes when only a quota is given. */
const defaultQuotaPeriodUs = 100_000;

/**
 * libcontainer's Apply(-1) for a slice (what the kubelet's cgroup manager Create does): the
 * properties StartTransientUnit gets. A slice's parent is named with Wants=, every accounting
 * switch is on (IOAccounting on v2, BlockIOAccounting on v1) and DefaultDependencies is off.
 */
export function sliceStartProperties(unit: string, parent: string, cgroupVersion: 1 | 2): UnitProperty[] {
  return [
    property('Description', 's', `libcontainer container ${unit}`),
    property('Wants', 'as', [parent]),
    property('MemoryAccounting', 'b', true),
    property('CPUAccounting', 'b', true),
    property(cgroupVersion === 2 ? 'IOAccounting' : 'BlockIOAccounting', 'b', true),
    property('TasksAccounting', 'b', true),
    property('DefaultDependencies', 'b', false),
  ];
}

/**
 * libcontainer's addCpuQuota: CPUQuotaPeriodUSec when a period is set (systemd ≥ 242), and
 * CPUQuotaPerSecUSec, the quota per second rounded up to whole 10 ms (systemd keeps a percentage),
 * or infinity for no quota.
 */
function quotaProperties(resources: CgroupResources, systemdVersion: number): UnitProperty[] {
  const out: UnitProperty[] = [];
  const quota = resources.cpuQuotaUs ?? 0;
  const period = resources.cpuPeriodUs ?? 0;
  if (period !== 0 && systemdVersion >= quotaPeriodSinceVersion)
    out.push(property('CPUQuotaPeriodUSec', 't', BigInt(period)));
  if (quota === 0 && period === 0) return out;
  let perSecond = 2n ** 64n - 1n;
  if (quota > 0) {
    perSecond = (BigInt(quota) * 1_000_000n) / BigInt(period === 0 ? defaultQuotaPeriodUs : period);
    if (perSecond % 10_000n !== 0n) perSecond = (perSecond / 10_000n + 1n) * 10_000n;
  }
  out.push(property('CPUQuotaPerSecUSec', 't', perSecond));
  return out;
}

/**
 * libcontainer's Set on a systemd unit (genV2ResourcesProperties / genV1ResourcesProperties for
 * what the kubelet passes): the limits as unit properties, given to SetUnitProperties before the
 * same limits are written to the cgroup files. Absent limits are left out.
 */
export function resourceProperties(
  resources: CgroupResources,
  cgroupVersion: 1 | 2,
  systemdVersion: number,
): UnitProperty[] {
  const out: UnitProperty[] = [];
  const memory = resources.memoryLimitBytes ?? 0;
  if (memory !== 0)
    out.push(property(cgroupVersion === 2 ? 'MemoryMax' : 'MemoryLimit', 't', uint64(memory)));
  if (resources.cpuShares !== undefined && resources.cpuShares !== 0) {
    out.push(
      cgroupVersion === 2
        ? // The kubelet's getCPUWeight: shares onto [1, 10000].
          property('CPUWeight', 't', BigInt(Math.min(10_000, cpuSharesToWeight(resources.cpuShares))))
        : property('CPUShares', 't', BigInt(resources.cpuShares)),
    );
  }
  out.push(...quotaProperties(resources, systemdVersion));
  const pids = resources.pidsLimit ?? 0;
  if (pids > 0 || pids === -1) out.push(property('TasksMax', 't', uint64(pids)));
  if (cgroupVersion === 2) out.push(...memoryProtectionProperties(resources));
  return out;
}

/** libcontainer's unifiedResToSystemdProps for MemoryQoS's files: memory.min / memory.low as MemoryMin / MemoryLow. */
function memoryProtectionProperties(resources: CgroupResources): UnitProperty[] {
  const out: UnitProperty[] = [];
  for (const [file, name] of [
    ['memory.min', 'MemoryMin'],
    ['memory.low', 'MemoryLow'],
  ] as const) {
    const value = resources.unified?.[file];
    if (value !== undefined) out.push(property(name, 't', value === 'max' ? 2n ** 64n - 1n : BigInt(value)));
  }
  return out;
}
