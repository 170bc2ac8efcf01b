import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareKubelet } from '../src/kubelet-command';
import { resolveKubeletOptions } from '../src/kubelet-flags';
import { startupWarnings } from '../src/startup-warnings';

// featureGates (file) and --feature-gates (flag) against the v1.36 gate table (issue #49): an
// unknown or locked gate refuses the start with upstream's reason in one line; a GA or
// deprecated gate set gets upstream's warning; a gate set away from its default that this kubelet
// does not implement is named in a warning; a gate it reads is not.

const header = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-feature-gates-${process.pid}-`));
  await writeFile(join(dir, 'locked.yaml'), `${header}featureGates:\n  NodeSwap: false\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** prepareKubelet's exit code and stderr for `argv`. */
async function start(argv: string[]): Promise<{ exitCode?: number; stderr: string }> {
  let stderr = '';
  const command = await prepareKubelet(argv, {
    stdout: () => {},
    stderr: (text) => {
      stderr += text;
    },
  });
  return { exitCode: 'exitCode' in command ? command.exitCode : undefined, stderr };
}

describe('refused at start, one line', () => {
  it.each([
    [
      ['--feature-gates=Bogus=true'],
      'Error: --feature-gates: unrecognized feature gate: Bogus (got {"Bogus":true})',
    ],
    [
      ['--feature-gates=NFTablesProxyMode=false'],
      'Error: --feature-gates: cannot set feature gate NFTablesProxyMode to false, feature is locked to true (got {"NFTablesProxyMode":false})',
    ],
    [
      [
        '--feature-gates=GracefulNodeShutdown=true,PodLifecycleSleepAction=true,ClusterTrustBundle=false,ClusterTrustBundleProjection=true',
      ],
      'Error: --feature-gates: ClusterTrustBundleProjection is enabled, but depends on features that are disabled: [ClusterTrustBundle] (got {"GracefulNodeShutdown":true,"PodLifecycleSleepAction":true,"ClusterTrustBundle":false,"ClusterTrustBundleProjection":true})',
    ],
    [
      ['--config', 'locked.yaml'],
      'Error: invalid configuration: featureGates: cannot set feature gate NodeSwap to false, feature is locked to true (got {"NodeSwap":false})',
    ],
  ])('%j', async (argv, line) => {
    const { exitCode, stderr } = await start(argv.map((a) => (a.endsWith('.yaml') ? join(dir, a) : a)));
    expect(exitCode).toBe(1);
    expect(stderr).toBe(`${line}\n`);
  });
});

describe('startup warnings', () => {
  const GA = 'Warning: setting GA feature gate. It will be removed in a future release.';
  const warningsFor = async (gates: string) =>
    startupWarnings(await resolveKubeletOptions([`--feature-gates=${gates}`])).filter(
      (w) => w.field === 'featureGates',
    );

  it.each([
    ['SidecarContainers=true', [{ field: 'featureGates', value: { SidecarContainers: true }, message: GA }]],
    [
      'KMSv1=true',
      [
        {
          field: 'featureGates',
          value: { KMSv1: true },
          message: 'Warning: setting deprecated feature gate. It will be removed in a future release.',
        },
        {
          field: 'featureGates',
          value: { KMSv1: true },
          message:
            'featureGates KMSv1=true have no effect: this kubelet does not implement these features and behaves as with their v1.36 defaults',
        },
      ],
    ],
    [
      'ContainerCheckpoint=false,NodeDeclaredFeatures=false,KubeletEnsureSecretPulledImages=false,InPlacePodLevelResourcesVerticalScaling=false,RestartAllContainersOnContainerExits=false',
      [],
    ],
    ['EventedPLEG=false,ContainerCheckpoint=true', []],
    [
      'MemoryQoS=true,CRIListStreaming=true,ContainerCheckpoint=false,EventedPLEG=true',
      [
        {
          field: 'featureGates',
          // MemoryQoS is honoured (cgroup v2 memory.min / memory.low / memory.high): not named.
          value: { CRIListStreaming: true },
          message:
            'featureGates CRIListStreaming=true have no effect: this kubelet does not implement these features and behaves as with their v1.36 defaults',
        },
      ],
    ],
  ])('%s', async (gates, expected) => {
    expect(await warningsFor(gates)).toEqual(expected);
  });

  it('AllBeta=false switches the honoured beta gates off where the code reads them', async () => {
    const { config } = await resolveKubeletOptions([
      '--feature-gates=AllBeta=false,NodeDeclaredFeatures=true',
    ]);
    expect(config.featureGates).toMatchObject({
      AllBeta: false,
      ContainerCheckpoint: false,
      KubeletEnsureSecretPulledImages: false,
      NodeDeclaredFeatures: true,
    });
  });
});
