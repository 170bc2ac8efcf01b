import {
  FEATURE_GATES_V1_36,
  HONOURED_FEATURE_GATES,
  InvalidFeatureGateError,
  resolveFeatureGates,
  unimplementedGateChanges,
} from '@nodeagent/primitives/feature-gates';
import { describe, expect, it } from 'vitest';

const resolve = (requested: Record<string, boolean>) => resolveFeatureGates(requested, FEATURE_GATES_V1_36);
const GA_WARNING = 'Warning: setting GA feature gate. It will be removed in a future release.';
const DEPRECATED_WARNING =
  'Warning: setting deprecated feature gate. It will be removed in a future release.';

describe('resolveFeatureGates at v1.36', () => {
  it.each([
    [{ Bogus: true }, 'unrecognized feature gate: Bogus', 'Bogus'],
    [
      { NFTablesProxyMode: false },
      'cannot set feature gate NFTablesProxyMode to false, feature is locked to true',
      'NFTablesProxyMode',
    ],
    [
      { AllowOverwriteTerminationGracePeriodSeconds: true },
      'cannot set feature gate AllowOverwriteTerminationGracePeriodSeconds to true, feature is locked to false',
      'AllowOverwriteTerminationGracePeriodSeconds',
    ],
    [
      { SidecarContainers: false, NodeSwap: false },
      '[cannot set feature gate SidecarContainers to false, feature is locked to true, cannot set feature gate NodeSwap to false, feature is locked to true]',
      'SidecarContainers',
    ],
    [
      { NodeDeclaredFeatures: false, RestartAllContainersOnContainerExits: false },
      'InPlacePodLevelResourcesVerticalScaling is enabled, but depends on features that are disabled: [NodeDeclaredFeatures]',
      'InPlacePodLevelResourcesVerticalScaling',
    ],
    [
      { GracefulNodeShutdown: false },
      '[GracefulNodeShutdownBasedOnPodPriority is enabled, but depends on features that are disabled: [GracefulNodeShutdown], WindowsGracefulNodeShutdown is enabled, but depends on features that are disabled: [GracefulNodeShutdown]]',
      'GracefulNodeShutdownBasedOnPodPriority',
    ],
    // GA and locked in v1.36 (kubernetes/website KubeletPSI.md: stable from 1.36, locked: true).
    [
      { KubeletPSI: false },
      'cannot set feature gate KubeletPSI to false, feature is locked to true',
      'KubeletPSI',
    ],
    [
      { UserNamespacesSupport: false, ImageVolume: false },
      '[cannot set feature gate UserNamespacesSupport to false, feature is locked to true, cannot set feature gate ImageVolume to false, feature is locked to true]',
      'UserNamespacesSupport',
    ],
    // Deprecated and locked off in v1.36.
    [
      { GitRepoVolumeDriver: true },
      'cannot set feature gate GitRepoVolumeDriver to true, feature is locked to false',
      'GitRepoVolumeDriver',
    ],
    // Gone in v1.36 (docs: last stage 1.35, removed), and the old spelling of RuntimeClassInImageCriApi.
    [{ MemoryManager: true }, 'unrecognized feature gate: MemoryManager', 'MemoryManager'],
    [
      { ServiceTrafficDistribution: true },
      'unrecognized feature gate: ServiceTrafficDistribution',
      'ServiceTrafficDistribution',
    ],
    [
      { InTreePluginPortworxUnregister: false },
      'unrecognized feature gate: InTreePluginPortworxUnregister',
      'InTreePluginPortworxUnregister',
    ],
    [
      { RuntimeClassInImageCriAPI: true },
      'unrecognized feature gate: RuntimeClassInImageCriAPI',
      'RuntimeClassInImageCriAPI',
    ],
    // An unknown gate stops at once, as upstream's early return: the locked one before is not listed.
    [{ Bogus: true, SidecarContainers: false }, 'unrecognized feature gate: Bogus', 'Bogus'],
  ])('%j is refused: %s', (requested, reason, gate) => {
    let thrown: unknown;
    try {
      resolve(requested);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidFeatureGateError);
    const error = thrown as InvalidFeatureGateError;
    expect(error.reason).toBe(reason);
    expect(error.message).toBe(`featureGates: ${reason}`);
    expect(error.field).toBe('featureGates');
    expect(error.gate).toBe(gate);
    expect(error.code).toBe('INVALID_FEATURE_GATE');
  });

  it.each([
    [{ SidecarContainers: true }, [{ gate: 'SidecarContainers', value: true, message: GA_WARNING }]],
    [{ DRAPrioritizedList: false }, [{ gate: 'DRAPrioritizedList', value: false, message: GA_WARNING }]],
    [{ KubeletPSI: true }, [{ gate: 'KubeletPSI', value: true, message: GA_WARNING }]],
    [
      { CustomCPUCFSQuotaPeriod: false },
      [{ gate: 'CustomCPUCFSQuotaPeriod', value: false, message: GA_WARNING }],
    ],
    [
      { DisableCPUQuotaWithExclusiveCPUs: false },
      [{ gate: 'DisableCPUQuotaWithExclusiveCPUs', value: false, message: DEPRECATED_WARNING }],
    ],
    [{ KMSv1: true }, [{ gate: 'KMSv1', value: true, message: DEPRECATED_WARNING }]],
    [{ ContainerCheckpoint: false, EventedPLEG: true, AllAlpha: true }, []],
  ])('%j warns %j', (requested, warnings) => {
    expect(resolve(requested).warnings).toEqual(warnings);
  });

  it('gives every gate its 1.36 default, a set value its value', () => {
    const { enabled } = resolve({ EventedPLEG: true, ContainerCheckpoint: false });
    expect(enabled.get('EventedPLEG')).toBe(true);
    expect(enabled.get('ContainerCheckpoint')).toBe(false);
    expect(enabled.get('NodeDeclaredFeatures')).toBe(true);
    expect(enabled.get('MemoryQoS')).toBe(false);
    expect(enabled.size).toBe(FEATURE_GATES_V1_36.size);
  });

  it.each([
    // [gate, default, stage, locked] at 1.36, as the docs (and the generated versioned feature list) have them.
    ['KubeletPSI', true, 'GA', true],
    ['TopologyManagerPolicyOptions', true, 'GA', true],
    ['CustomCPUCFSQuotaPeriod', true, 'GA', false],
    ['MaxUnavailableStatefulSet', false, 'BETA', false],
    ['ResourceHealthStatus', true, 'BETA', false],
    ['DisableCPUQuotaWithExclusiveCPUs', true, 'DEPRECATED', false],
    ['DRAResourceClaimDeviceStatus', true, 'BETA', false],
    ['InOrderInformers', true, 'GA', true],
    ['RuntimeClassInImageCriApi', false, 'ALPHA', false],
    ['PodsAPI', false, 'ALPHA', false],
    ['StaleControllerConsistencyJob', true, 'BETA', false],
    // On the v1.36 kube-scheduler reference page's --feature-gates list, missing here before.
    ['PLEGOnDemandRelist', true, 'BETA', false],
    ['ReloadKubeletClientCAFile', true, 'BETA', false],
    ['ResourceHealthStatusMessage', true, 'BETA', false],
    ['NativeHistograms', false, 'ALPHA', false],
    ['AtomicFIFO', true, 'BETA', false],
    ['ClientsAllowCARotation', true, 'BETA', false],
    ['ClientsAllowTLSCacheGC', true, 'BETA', false],
    ['UnlockWhileProcessingFIFO', true, 'BETA', false],
    ['SELinuxMount', false, 'BETA', false],
  ])('%s is %s, %s, locked %s', (gate, defaultValue, stage, locked) => {
    const spec = FEATURE_GATES_V1_36.get(gate);
    expect(spec).toMatchObject({ default: defaultValue, stage, lockToDefault: locked });
    expect(resolve({}).enabled.get(gate)).toBe(defaultValue);
  });

  it('AllBeta=false turns off every beta gate not named, and leaves GA gates alone', () => {
    const { enabled } = resolve({ AllBeta: false, KubeletEnsureSecretPulledImages: true });
    expect(enabled.get('ContainerCheckpoint')).toBe(false);
    expect(enabled.get('KubeletEnsureSecretPulledImages')).toBe(true);
    expect(enabled.get('SidecarContainers')).toBe(true);
  });

  it('every entry of the table is keyed by its own name, the locked ones are GA or deprecated, and dependencies are gates', () => {
    for (const [name, spec] of FEATURE_GATES_V1_36) {
      expect(spec.name).toBe(name);
      if (spec.lockToDefault) expect(['GA', 'DEPRECATED']).toContain(spec.stage);
      for (const dep of spec.dependsOn) expect(FEATURE_GATES_V1_36.has(dep), `${name} → ${dep}`).toBe(true);
    }
  });

  it('the defaults meet every dependency', () => {
    expect(resolve({}).warnings).toEqual([]);
  });
});

describe('unimplementedGateChanges', () => {
  const changes = (requested: Record<string, boolean>, honoured: readonly string[]) =>
    unimplementedGateChanges(resolve(requested).enabled, FEATURE_GATES_V1_36, honoured);

  it.each([
    [
      { EventedPLEG: true, MemoryQoS: true, CRIListStreaming: true, CustomCPUCFSQuotaPeriod: false },
      HONOURED_FEATURE_GATES.kubelet,
      ['CRIListStreaming', 'CustomCPUCFSQuotaPeriod'],
    ],
    [
      {
        ContainerCheckpoint: false,
        NodeDeclaredFeatures: false,
        InPlacePodLevelResourcesVerticalScaling: false,
        RestartAllContainersOnContainerExits: false,
      },
      HONOURED_FEATURE_GATES.kubelet,
      [],
    ],
    [{ ContainerCheckpoint: false }, HONOURED_FEATURE_GATES['kube-proxy'], ['ContainerCheckpoint']],
    [{ SidecarContainers: true }, HONOURED_FEATURE_GATES.kubelet, []],
  ])('%j → %j', (requested, honoured, expected) => {
    expect(changes(requested, honoured)).toEqual(expected);
  });

  it('AllAlpha=true names the alpha gates it turned on, not itself', () => {
    const named = changes({ AllAlpha: true }, []);
    expect(named).toContain('EventedPLEG');
    expect(named).not.toContain('AllAlpha');
  });

  it('every honoured gate is in the table', () => {
    for (const gate of [...HONOURED_FEATURE_GATES.kubelet, ...HONOURED_FEATURE_GATES['kube-proxy']])
      expect(FEATURE_GATES_V1_36.has(gate)).toBe(true);
  });
});
