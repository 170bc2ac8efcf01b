import { readFile, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { type KubeletConfiguration, KubeletError, type KubeletLogger } from '@nodeagent/kubelet';
import { detectCgroupFilesystem, memoryHighLivelockKernel } from '@nodeagent/kubelet/cgroups';
import {
  kubeletSysctlRoot,
  procSysctls,
  readSelfUidMap,
  runningInUserNamespace,
  type Sysctls,
  setupKernelTunables,
} from './kernel-tunables';

/**
 * The kubelet refuses to start on this host as configured (swap on, cgroup v1…). Its message is
 * the line upstream prints, which names the stage that refused (`failed to run Kubelet`, or
 * `failed to validate kubelet configuration` for checks upstream makes while validating).
 */
export class StartupRefusedError extends KubeletError {
  constructor(field: string, value: unknown, reason: string, stage = 'failed to run Kubelet') {
    super('STARTUP_REFUSED', field, value, reason, `${stage}: ${reason}`);
  }
}

/** Upstream v1.35+'s refusal of a cgroup v1 host (validateKubeletOSConfiguration). */
export const cgroupV1RefusedReason =
  'kubelet is configured to not run on a host using cgroup v1. cgroup v1 support is unsupported and will be removed in a future release';

/** The active swap devices listed in /proc/swaps (its header line dropped). */
export function activeSwaps(procSwaps: string): string[] {
  return procSwaps
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/**
 * failSwapOn: upstream's container manager refuses to run while any swap is active. Returns
 * whether swap is on (so the caller can warn about memory-backed volumes).
 */
export async function checkSwap(
  failSwapOn: boolean,
  readProcSwaps: () => Promise<string> = () => readFile('/proc/swaps', 'utf8'),
): Promise<boolean> {
  // No /proc/swaps (no swap support in the kernel) means no swap.
  const swaps = activeSwaps(await readProcSwaps().catch(() => ''));
  if (failSwapOn && swaps.length > 0) {
    throw new StartupRefusedError(
      'failSwapOn',
      swaps,
      'running with swap on is not supported, please disable swap or set --fail-swap-on flag to false',
    );
  }
  return swaps.length > 0;
}

/**
 * Upstream's container manager on a cgroup v1 host started with failCgroupV1: false: a Warning
 * on the Node (events.CgroupV1, cm.CgroupV1DeprecatedWarning since KEP-5573, v1.35) and the same
 * words in the log.
 */
export const cgroupV1Deprecated = {
  reason: 'CgroupV1',
  message:
    'cgroup v1 detected. cgroup v1 support is deprecated and will be removed in a future release. ' +
    'Please migrate to cgroup v2. More information at https://git.k8s.io/enhancements/keps/sig-node/5573-remove-cgroup-v1',
} as const;

/** Upstream's node event when swap is on and tmpfs cannot be mounted with noswap. */
export const possibleMemoryBackedVolumesOnDisk = {
  reason: 'PossibleMemoryBackedVolumesOnDisk',
  message:
    'The tmpfs noswap option is not supported. Memory-backed volumes (e.g. secrets, emptyDirs, etc.) ' +
    'might be swapped to disk and should no longer be considered secure.',
} as const;

/**
 * Whether tmpfs takes the noswap option: kernels from 6.4 on (upstream
 * TmpfsNoswapSupportKernelVersion). Upstream also tries a test mount on older kernels (for
 * backports); this kubelet does not mount at start and takes the version's word.
 */
export function tmpfsNoswapSupported(kernelRelease: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(kernelRelease);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 6 || (major === 6 && minor >= 4);
}

/**
 * failCgroupV1: upstream refuses to start on a cgroup v1 host when it is set. The check is part of
 * upstream's configuration validation, whose error wraps it with the (empty) TypeMeta of the
 * internal configuration as `path`; the line here is the one upstream prints.
 */
export function checkCgroupVersion(failCgroupV1: boolean, cgroupVersion: 1 | 2): void {
  if (failCgroupV1 && cgroupVersion === 1)
    throw validationRefusal('failCgroupV1', true, cgroupV1RefusedReason);
}

/**
 * singleProcessOOMKill: false asks for whole-container OOM kills, which cgroup v1 cannot give
 * (no memory.oom.group); upstream's validation refuses it there, right after failCgroupV1.
 */
export function checkSingleProcessOOMKill(
  singleProcessOOMKill: boolean | undefined,
  cgroupVersion: 1 | 2,
): void {
  if (singleProcessOOMKill === false && cgroupVersion === 1)
    throw validationRefusal(
      'singleProcessOOMKill',
      false,
      'invalid configuration: singleProcessOOMKill must not be explicitly set to false when using cgroup v1',
    );
}

/** A refusal from upstream's configuration validation, wrapped as its error prints it. */
function validationRefusal(field: string, value: unknown, reason: string): StartupRefusedError {
  return new StartupRefusedError(
    field,
    value,
    `${reason}, path: &TypeMeta{Kind:,APIVersion:,}`,
    'failed to validate kubelet configuration, error',
  );
}

/**
 * oomScoreAdj: the kubelet's own OOM score (-999 by default, so the OOM killer takes pods
 * first). Failing to set it is logged and not fatal, as upstream.
 */
export async function applyOomScoreAdj(
  value: number,
  logger: KubeletLogger,
  write: (text: string) => Promise<void> = (text) => writeFile('/proc/self/oom_score_adj', text),
): Promise<void> {
  await write(String(value)).catch((error) =>
    logger.warn({ oomScoreAdj: value, err: String(error) }, 'Failed to ApplyOOMScoreAdj'),
  );
}

/** What the host checks found that the kubelet reports once it can (events need the API). */
export interface StartupFindings {
  /** Swap is on and tmpfs cannot keep memory-backed volumes out of it: warn on the Node. */
  memoryBackedVolumesMaySwap: boolean;
  /** The host's cgroup version (kubelet_cgroup_version; 1 also warns on the Node). */
  cgroupVersion: 1 | 2;
}

/**
 * Upstream v1.36's start-up warning with the MemoryQoS gate on a kernel older than 5.9, where
 * memory.high throttling can livelock (fixed in 5.9); informational, the feature still runs.
 * The words are this kubelet's.
 */
export function memoryQoSKernelWarning(memoryQoS: boolean, kernelRelease: string): string | undefined {
  if (!memoryQoS || !memoryHighLivelockKernel(kernelRelease)) return undefined;
  return `MemoryQoS is enabled on kernel ${kernelRelease}, older than 5.9: memory.high throttling may livelock; upgrade the kernel to 5.9 or later`;
}

/** The host checks upstream makes before anything starts, then the kubelet's own OOM score. */
export async function runStartupChecks(
  config: Pick<
    KubeletConfiguration,
    'failSwapOn' | 'failCgroupV1' | 'singleProcessOOMKill' | 'oomScoreAdj' | 'featureGates'
  >,
  logger: KubeletLogger,
): Promise<StartupFindings> {
  const swapOn = await checkSwap(config.failSwapOn);
  const cgroupVersion = (await detectCgroupFilesystem()).version;
  checkCgroupVersion(config.failCgroupV1, cgroupVersion);
  checkSingleProcessOOMKill(config.singleProcessOOMKill, cgroupVersion);
  if (cgroupVersion === 1) logger.warn({}, cgroupV1Deprecated.message);
  const kernelWarning = memoryQoSKernelWarning(config.featureGates.MemoryQoS === true, release());
  if (kernelWarning) logger.warn({ kernel: release() }, kernelWarning);
  await applyOomScoreAdj(config.oomScoreAdj, logger);
  return { memoryBackedVolumesMaySwap: swapOn && !tmpfsNoswapSupported(release()), cgroupVersion };
}

/**
 * Upstream's container manager as it starts (setupNode, before the node's cgroups): the kernel
 * tunables written where they differ, or only checked with protectKernelDefaults. Any failure
 * stops the kubelet as upstream's "Failed to start ContainerManager" (exit 1) does.
 */
export async function applyKernelTunables(
  config: Pick<KubeletConfiguration, 'protectKernelDefaults' | 'featureGates'>,
  logger: KubeletLogger,
  sysctls: Sysctls = procSysctls(kubeletSysctlRoot()),
): Promise<void> {
  const failure = await setupKernelTunables(sysctls, {
    protectKernelDefaults: config.protectKernelDefaults,
    kubeletInUserNamespace: config.featureGates.KubeletInUserNamespace === true,
    inUserNamespace: async () => runningInUserNamespace(await readSelfUidMap()),
    logger,
  });
  if (failure !== undefined)
    throw new StartupRefusedError(
      'protectKernelDefaults',
      config.protectKernelDefaults,
      failure,
      'Failed to start ContainerManager',
    );
}
