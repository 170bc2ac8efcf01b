import { goQuote } from '@nodeagent/primitives/go-text';
import { describe, expect, it } from 'vitest';
import { kubernetesVolumeIdToEbsVolumeId } from '../src/volumes/csi/migration/aws-ebs';
import { goStringSet } from '../src/volumes/csi/migration/go-format';
import {
  IN_TREE_PLUGINS,
  type InTreePersistentVolume,
  type InTreePlugin,
  type InTreeVolume,
  inTreePluginOf,
  type TranslatedPersistentVolume,
  translateInTreeInlineVolume,
  translateInTreePersistentVolume,
} from '../src/volumes/csi/migration/in-tree-plugins';
import type {
  NodeSelectorRequirement,
  VolumeNodeAffinity,
} from '../src/volumes/csi/migration/in-tree-sources';
import { addTopology, replaceTopology } from '../src/volumes/csi/migration/in-tree-topology';
import { NIL_POINTER_DEREFERENCE } from '../src/volumes/csi/migration/vsphere-volume';

const GCE_KEY = 'topology.gke.io/zone';
const EBS_KEY = 'topology.ebs.csi.aws.com/zone';
const CINDER_KEY = 'topology.cinder.csi.openstack.org/zone';
const GA_ZONE = 'topology.kubernetes.io/zone';
const GA_REGION = 'topology.kubernetes.io/region';
const BETA_ZONE = 'failure-domain.beta.kubernetes.io/zone';
const BETA_REGION = 'failure-domain.beta.kubernetes.io/region';

const betaLabels = { [BETA_ZONE]: 'us-east-1a', [BETA_REGION]: 'us-east-1' };
const gaLabels = { [GA_ZONE]: 'us-east-1a', [GA_REGION]: 'us-east-1' };
const regionalBetaLabels = { [BETA_ZONE]: 'europe-west1-b__europe-west1-c' };
const regionalGaLabels = { [GA_ZONE]: 'europe-west1-b__europe-west1-c' };

function plugin(inTreePluginName: string): InTreePlugin {
  const found = IN_TREE_PLUGINS.find((candidate) => candidate.inTreePluginName === inTreePluginName);
  if (!found) throw new Error(`no plugin ${inTreePluginName}`);
  return found;
}

const gce = plugin('kubernetes.io/gce-pd');
const ebs = plugin('kubernetes.io/aws-ebs');
const azureDisk = plugin('kubernetes.io/azure-disk');
const azureFile = plugin('kubernetes.io/azure-file');
const cinder = plugin('kubernetes.io/cinder');
const vsphere = plugin('kubernetes.io/vsphere-volume');
const portworx = plugin('kubernetes.io/portworx-volume');

/** The message of what `run` throws, or undefined when it returns. */
function thrown(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

function topology(key: string, ...values: string[]): NodeSelectorRequirement {
  return { key, operator: 'In', values };
}

function affinityOf(...terms: NodeSelectorRequirement[][]): VolumeNodeAffinity {
  return { required: { nodeSelectorTerms: terms.map((matchExpressions) => ({ matchExpressions })) } };
}

/** One term with `key In values`, or (multiTerms) one term per value. */
function expectedAffinity(multiTerms: boolean, key: string, ...values: string[]): VolumeNodeAffinity {
  return multiTerms
    ? affinityOf(...values.map((value) => [topology(key, value)]))
    : affinityOf([topology(key, ...values)]);
}

function pvWith(
  source: NonNullable<InTreePersistentVolume['spec']>,
  labels?: Record<string, string>,
  ...terms: NodeSelectorRequirement[][]
): InTreePersistentVolume {
  return {
    metadata: labels ? { labels } : {},
    spec: { ...source, ...(terms.length > 0 ? { nodeAffinity: affinityOf(...terms) } : {}) },
  };
}

const gcePd = { gcePersistentDisk: { pdName: 'test-disk', fsType: 'ext4', partition: 0, readOnly: false } };
const awsEbs = { awsElasticBlockStore: { volumeID: 'vol01', fsType: 'ext3', partition: 1, readOnly: true } };
const cinderVolume = { cinder: { volumeID: 'vol1', fsType: 'ext4', readOnly: false } };

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('in-tree plugin names', () => {
  it('maps each of the seven in-tree plugins to its CSI driver', () => {
    expect(IN_TREE_PLUGINS.map((p) => [p.inTreePluginName, p.csiDriverName]).sort()).toEqual([
      ['kubernetes.io/aws-ebs', 'ebs.csi.aws.com'],
      ['kubernetes.io/azure-disk', 'disk.csi.azure.com'],
      ['kubernetes.io/azure-file', 'file.csi.azure.com'],
      ['kubernetes.io/cinder', 'cinder.csi.openstack.org'],
      ['kubernetes.io/gce-pd', 'pd.csi.storage.gke.io'],
      ['kubernetes.io/portworx-volume', 'pxd.portworx.com'],
      ['kubernetes.io/vsphere-volume', 'csi.vsphere.vmware.com'],
    ]);
  });
});

describe('translateInTreePersistentVolume (TranslateInTreePVToCSI)', () => {
  it.each<[string, InTreePersistentVolume, TranslatedPersistentVolume]>([
    [
      'GCE PD',
      { spec: gcePd },
      {
        spec: {
          csi: {
            driver: 'pd.csi.storage.gke.io',
            volumeHandle: 'projects/UNSPECIFIED/zones/UNSPECIFIED/disks/test-disk',
            fsType: 'ext4',
            volumeAttributes: { partition: '' },
          },
        },
      },
    ],
    [
      'AWS EBS',
      { spec: awsEbs },
      {
        spec: {
          csi: {
            driver: 'ebs.csi.aws.com',
            volumeHandle: 'vol01',
            readOnly: true,
            fsType: 'ext3',
            volumeAttributes: { partition: '1' },
          },
        },
      },
    ],
  ])('translates a %s PV source', (_name, pv, expected) => {
    expect(translateInTreePersistentVolume(pv)).toEqual(expected);
  });

  it("fails for no PV and for a PV without an in-tree source, with upstream's texts", () => {
    expect(thrown(() => translateInTreePersistentVolume(undefined))).toBe('persistent volume was nil');
    const csiPv = { metadata: { name: 'pv-1' }, spec: { csi: { driver: 'x', volumeHandle: 'h' } } };
    expect(thrown(() => translateInTreePersistentVolume(csiPv))).toBe(
      'could not find in-tree plugin translation logic for "pv-1"',
    );
    expect(thrown(() => translateInTreePersistentVolume({}))).toBe(
      'could not find in-tree plugin translation logic for ""',
    );
  });

  it('keeps the rest of the PV: metadata, claimRef, capacity, mountOptions, volumeMode, unknown fields', () => {
    const pv = {
      metadata: { name: 'pv-ebs', labels: { app: 'db' }, annotations: { a: 'b' }, uid: 'u-1' },
      spec: {
        awsElasticBlockStore: { volumeID: 'aws://us-west-2a/vol-1', fsType: 'xfs' },
        accessModes: ['ReadWriteOnce'],
        capacity: { storage: '5Gi' },
        claimRef: { namespace: 'ns', name: 'claim', uid: 'c-1' },
        mountOptions: ['noatime'],
        volumeMode: 'Block',
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'gp2',
      },
      status: { phase: 'Bound' },
    };
    expect(translateInTreePersistentVolume(pv)).toEqual({
      metadata: { name: 'pv-ebs', labels: { app: 'db' }, annotations: { a: 'b' }, uid: 'u-1' },
      spec: {
        csi: {
          driver: 'ebs.csi.aws.com',
          volumeHandle: 'vol-1',
          fsType: 'xfs',
          volumeAttributes: { partition: '0' },
        },
        accessModes: ['ReadWriteOnce'],
        capacity: { storage: '5Gi' },
        claimRef: { namespace: 'ns', name: 'claim', uid: 'c-1' },
        mountOptions: ['noatime'],
        volumeMode: 'Block',
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'gp2',
      },
      status: { phase: 'Bound' },
    });
  });

  it.each<[string, InTreePersistentVolume]>([
    ['GCE PD', pvWith(gcePd, regionalBetaLabels, [topology(BETA_ZONE, 'europe-west1-b')])],
    [
      'AWS EBS',
      pvWith(awsEbs, betaLabels, [topology(BETA_ZONE, 'us-east-1a'), topology(BETA_REGION, 'us-east-1')]),
    ],
    ['Cinder', pvWith(cinderVolume, betaLabels)],
    [
      'Azure Disk',
      pvWith({ azureDisk: { diskURI: 'uri', kind: 'Managed', fsType: 'ext4' } }, gaLabels, [
        topology(GA_ZONE, '1'),
      ]),
    ],
    [
      'Azure File',
      {
        metadata: { name: 'f', annotations: { 'kubernetes.io/azure-file-resource-group': 'rg' } },
        spec: { azureFile: { secretName: 's', shareName: 'x' }, claimRef: { namespace: 'ns' } },
      },
    ],
    ['vSphere', pvWith({ vsphereVolume: { volumePath: '[ds] a.vmdk', storagePolicyName: 'p' } }, betaLabels)],
    [
      'Portworx',
      {
        metadata: {
          annotations: {
            'openstorage.io/auth-secret-name': 's',
            'openstorage.io/auth-secret-namespace': 'n',
          },
        },
        spec: { portworxVolume: { volumeID: 'v' }, accessModes: ['ReadWriteMany'] },
      },
    ],
  ])('leaves a %s input PV as it was and shares nothing with it', (_name, pv) => {
    const before = structuredClone(pv);
    const translated = translateInTreePersistentVolume(deepFreeze(pv));
    expect(pv).toEqual(before);
    expect(translated.spec).not.toBe(pv.spec);
    if (pv.spec?.nodeAffinity) expect(translated.spec?.nodeAffinity).not.toBe(pv.spec.nodeAffinity);
    expect(Object.isFrozen(translated.spec)).toBe(false);
  });
});

describe('translateInTreeInlineVolume (TranslateInTreeInlineVolumeToCSI)', () => {
  it("fails for no volume and for a volume without an in-tree source, with upstream's texts", () => {
    expect(thrown(() => translateInTreeInlineVolume(undefined, 'ns'))).toBe('persistent volume was nil');
    expect(thrown(() => translateInTreeInlineVolume({ name: 'scratch' }, 'ns'))).toBe(
      'could not find in-tree plugin translation logic for "scratch"',
    );
  });

  it.each<[string, InTreeVolume]>([
    ['GCE PD', { name: 'v', gcePersistentDisk: { pdName: 'pd' } }],
    ['AWS EBS', { name: 'v', awsElasticBlockStore: { volumeID: 'vol-1' } }],
    ['Azure Disk', { name: 'v', azureDisk: { diskName: 'd', diskURI: 'uri' } }],
    ['Azure File', { name: 'v', azureFile: { secretName: 's', shareName: 'x' } }],
    ['Cinder', { name: 'v', cinder: { volumeID: 'c' } }],
    ['vSphere', { name: 'v', vsphereVolume: { volumePath: '[ds] v.vmdk' } }],
    ['Portworx', { name: 'v', portworxVolume: { volumeID: 'p' } }],
  ])('gives a %s inline volume Filesystem mode and leaves the volume as it was', (_name, volume) => {
    const before = structuredClone(volume);
    expect(translateInTreeInlineVolume(deepFreeze(volume), '').spec?.volumeMode).toBe('Filesystem');
    expect(volume).toEqual(before);
  });

  it.each<[string, (id: string) => InTreeVolume]>([
    ['GCE PD', (id) => ({ name: '', gcePersistentDisk: { pdName: id } })],
    ['AWS EBS', (id) => ({ name: '', awsElasticBlockStore: { volumeID: id } })],
    ['Cinder', (id) => ({ name: '', cinder: { volumeID: id } })],
    ['Azure Disk', (id) => ({ name: '', azureDisk: { diskName: id, diskURI: `uri-${id}` } })],
    ['Azure File', (id) => ({ name: '', azureFile: { secretName: `s-${id}`, shareName: `x-${id}` } })],
    [
      'vSphere',
      (id) => ({
        name: '',
        vsphereVolume: {
          volumePath: ` [vsanDatastore] 6785a85e/kubernetes-dynamic-pvc-${id}.vmdk`,
          fsType: 'ext4',
        },
      }),
    ],
    ['Portworx', (id) => ({ name: '', portworxVolume: { volumeID: id } })],
  ])('names the PVs of two different %s volumes differently', (_name, volumeOf) => {
    const first = translateInTreeInlineVolume(volumeOf('0b6c1f3e-1'), '');
    const second = translateInTreeInlineVolume(volumeOf('9d2a7c40-2'), '');
    expect(first.metadata?.name).toBeTruthy();
    expect(first.metadata?.name).not.toBe(second.metadata?.name);
  });
});

describe('inTreePluginOf (GetInTreePluginNameFromSpec)', () => {
  const sources: [string, Record<string, object>][] = [
    ['kubernetes.io/gce-pd', { gcePersistentDisk: { pdName: 'a' } }],
    ['kubernetes.io/aws-ebs', { awsElasticBlockStore: { volumeID: 'a' } }],
    ['kubernetes.io/azure-disk', { azureDisk: { diskURI: 'a' } }],
    ['kubernetes.io/azure-file', { azureFile: { shareName: 'a' } }],
    ['kubernetes.io/cinder', { cinder: { volumeID: 'a' } }],
    ['kubernetes.io/vsphere-volume', { vsphereVolume: { volumePath: 'a' } }],
    ['kubernetes.io/portworx-volume', { portworxVolume: { volumeID: 'a' } }],
  ];

  it.each(sources)('finds %s for a PV and for an inline volume with its source', (name, source) => {
    expect(inTreePluginOf({ spec: source }, undefined)?.inTreePluginName).toBe(name);
    expect(inTreePluginOf(undefined, { name: 'v', ...source })?.inTreePluginName).toBe(name);
    expect(inTreePluginOf({ spec: source }, undefined)?.canSupport({ spec: source })).toBe(true);
  });

  it('finds none for a CSI PV, an empty volume or neither, and looks at the PV alone when there is one', () => {
    expect(
      inTreePluginOf({ spec: { csi: { driver: 'pd.csi.storage.gke.io', volumeHandle: 'h' } } }, undefined),
    ).toBe(undefined);
    expect(inTreePluginOf(undefined, { name: 'v' })).toBe(undefined);
    expect(inTreePluginOf(undefined, undefined)).toBe(undefined);
    expect(inTreePluginOf({ spec: {} }, { name: 'v', gcePersistentDisk: { pdName: 'a' } })).toBe(undefined);
  });
});

describe('PV topology (TestTopologyTranslation)', () => {
  it.each<[string, InTreePersistentVolume, VolumeNodeAffinity]>([
    [
      'GCE PD with beta zone labels',
      pvWith(gcePd, betaLabels),
      expectedAffinity(false, GCE_KEY, 'us-east-1a'),
    ],
    ['GCE PD with GA zone labels', pvWith(gcePd, gaLabels), expectedAffinity(false, GCE_KEY, 'us-east-1a')],
    [
      'GCE PD with beta topology',
      pvWith(gcePd, undefined, [topology(BETA_ZONE, 'us-east-2a')]),
      expectedAffinity(false, GCE_KEY, 'us-east-2a'),
    ],
    [
      'GCE PD with CSI topology',
      pvWith(gcePd, undefined, [topology(GCE_KEY, 'us-east-2a')]),
      expectedAffinity(false, GCE_KEY, 'us-east-2a'),
    ],
    [
      'GCE PD with zone labels and topology',
      pvWith(gcePd, betaLabels, [topology(BETA_ZONE, 'us-east-2a')]),
      expectedAffinity(false, GCE_KEY, 'us-east-2a'),
    ],
    [
      'GCE PD with regional zone labels',
      pvWith(gcePd, regionalBetaLabels),
      expectedAffinity(false, GCE_KEY, 'europe-west1-b', 'europe-west1-c'),
    ],
    [
      'GCE PD with regional topology',
      pvWith(gcePd, undefined, [topology(GA_ZONE, 'europe-west1-b', 'europe-west1-c')]),
      expectedAffinity(false, GCE_KEY, 'europe-west1-b', 'europe-west1-c'),
    ],
    [
      'GCE PD with beta regional labels and topology',
      pvWith(gcePd, regionalBetaLabels, [topology(BETA_ZONE, 'europe-west1-f', 'europe-west1-g')]),
      expectedAffinity(false, GCE_KEY, 'europe-west1-f', 'europe-west1-g'),
    ],
    [
      'GCE PD with GA regional labels and topology',
      pvWith(gcePd, regionalGaLabels, [topology(GA_ZONE, 'europe-west1-f', 'europe-west1-g')]),
      expectedAffinity(false, GCE_KEY, 'europe-west1-f', 'europe-west1-g'),
    ],
    [
      'GCE PD with several node selector terms',
      pvWith(gcePd, undefined, [topology(GA_ZONE, 'europe-west1-f')], [topology(GA_ZONE, 'europe-west1-g')]),
      expectedAffinity(true, GCE_KEY, 'europe-west1-f', 'europe-west1-g'),
    ],
    [
      'AWS EBS with beta zone labels',
      pvWith(awsEbs, betaLabels),
      expectedAffinity(false, EBS_KEY, 'us-east-1a'),
    ],
    [
      'AWS EBS with beta zone labels and topology',
      pvWith(awsEbs, betaLabels, [topology(BETA_ZONE, 'us-east-2a')]),
      expectedAffinity(false, EBS_KEY, 'us-east-2a'),
    ],
    ['AWS EBS with GA zone labels', pvWith(awsEbs, gaLabels), expectedAffinity(false, EBS_KEY, 'us-east-1a')],
    [
      'AWS EBS with GA zone labels and topology',
      pvWith(awsEbs, gaLabels, [topology(GA_ZONE, 'us-east-2a')]),
      expectedAffinity(false, EBS_KEY, 'us-east-2a'),
    ],
    [
      'Cinder with zone labels',
      pvWith(cinderVolume, betaLabels),
      expectedAffinity(false, CINDER_KEY, 'us-east-1a'),
    ],
    [
      'Cinder with zone labels and topology',
      pvWith(cinderVolume, betaLabels, [topology(BETA_ZONE, 'us-east-2a')]),
      expectedAffinity(false, CINDER_KEY, 'us-east-2a'),
    ],
    [
      'GA zone and region topology: the zone key becomes the CSI key, the GA region stays',
      pvWith(gcePd, { [GA_ZONE]: 'us-east1-a', [GA_REGION]: 'us-east1' }, [
        topology(GA_ZONE, 'us-east1-a'),
        topology(GA_REGION, 'us-east1'),
      ]),
      affinityOf([topology(GCE_KEY, 'us-east1-a'), topology(GA_REGION, 'us-east1')]),
    ],
    [
      'beta zone and region topology: the beta region becomes the GA region',
      pvWith(gcePd, { [GA_ZONE]: 'us-east1-a', [GA_REGION]: 'us-east1' }, [
        topology(BETA_ZONE, 'us-west2-b'),
        topology(BETA_REGION, 'us-west2'),
      ]),
      affinityOf([topology(GCE_KEY, 'us-west2-b'), topology(GA_REGION, 'us-west2')]),
    ],
    [
      'a zone label of blanks adds nothing',
      pvWith(gcePd, { [GA_ZONE]: ' ' }),
      undefined as unknown as VolumeNodeAffinity,
    ],
  ])('%s', (_name, pv, expected) => {
    expect(translateInTreePersistentVolume(pv).spec?.nodeAffinity).toEqual(expected);
  });
});

describe('addTopology and replaceTopology', () => {
  it.each<[string, string[], VolumeNodeAffinity | undefined, string | undefined]>([
    ['no zones', [], undefined, 'there are no valid zones to add to pv'],
    ['only blank zones', [' ', '\n', '\t', '  '], undefined, 'there are no valid zones to add to pv'],
    ['some blank zones', [' ', 'us-central1-a'], affinityOf([topology(GCE_KEY, 'us-central1-a')]), undefined],
    [
      'unsorted zones',
      ['us-central1-f', 'us-central1-a', 'us-central1-c', 'us-central1-b'],
      affinityOf([topology(GCE_KEY, 'us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f')]),
      undefined,
    ],
  ])('addTopology with %s', (_name, zones, expected, error) => {
    const pv: InTreePersistentVolume = { spec: {} };
    expect(addTopology(pv, GCE_KEY, zones)?.message).toBe(error);
    expect(pv.spec?.nodeAffinity).toEqual(expected);
  });

  it.each<[string, NodeSelectorRequirement[][], VolumeNodeAffinity]>([
    ['a single CSI key', [[topology(GCE_KEY, 'us-east1-a')]], affinityOf([topology(GA_ZONE, 'us-east1-a')])],
    ['no such key', [[topology(GA_ZONE, 'us-east1-a')]], affinityOf([topology(GA_ZONE, 'us-east1-a')])],
    [
      'the key in several terms',
      [[topology(GCE_KEY, 'us-east1-a')], [topology(GCE_KEY, 'us-east1-c')]],
      affinityOf([topology(GA_ZONE, 'us-east1-a')], [topology(GA_ZONE, 'us-east1-c')]),
    ],
    [
      'the new key already in the term (not merged)',
      [[topology(GCE_KEY, 'us-east1-a'), topology(GA_ZONE, 'us-east1-c')]],
      affinityOf([topology(GA_ZONE, 'us-east1-a'), topology(GA_ZONE, 'us-east1-c')]),
    ],
  ])('replaceTopology with %s', (_name, terms, expected) => {
    const pv: InTreePersistentVolume = { spec: { nodeAffinity: affinityOf(...terms) } };
    replaceTopology(pv, GCE_KEY, GA_ZONE);
    expect(pv.spec?.nodeAffinity).toEqual(expected);
  });
});

describe('GCE PD', () => {
  it.each<[string[], string[]]>([
    [['ReadOnlyMany'], ['ReadOnlyMany']],
    [['ReadWriteOnce'], ['ReadWriteOnce']],
    [['ReadWriteMany'], ['ReadWriteOnce']],
    [['ReadOnlyMany', 'ReadWriteOnce'], ['ReadWriteOnce']],
    [['ReadWriteOnce', 'ReadWriteMany'], ['ReadWriteOnce']],
    [['ReadWriteMany', 'ReadOnlyMany'], ['ReadWriteOnce']],
    [['ReadWriteMany', 'ReadWriteOnce', 'ReadOnlyMany'], ['ReadWriteOnce']],
  ])('translates access modes %j to %j (backwardCompatibleAccessModes)', (accessModes, expected) => {
    const pv = { spec: { ...gcePd, accessModes } };
    expect(translateInTreePersistentVolume(pv).spec?.accessModes).toEqual(expected);
  });

  it.each<[string, string, string]>([
    [BETA_ZONE, 'us-east1-a', 'projects/UNSPECIFIED/zones/us-east1-a/disks/pd-name'],
    [GA_ZONE, 'us-east1-a', 'projects/UNSPECIFIED/zones/us-east1-a/disks/pd-name'],
    [BETA_ZONE, 'us-central1-a__us-central1-c', 'projects/UNSPECIFIED/regions/us-central1/disks/pd-name'],
    [GA_ZONE, 'us-central1-a__us-central1-c', 'projects/UNSPECIFIED/regions/us-central1/disks/pd-name'],
  ])('takes the volume handle from the %s label %s', (key, value, handle) => {
    const pv = { metadata: { labels: { [key]: value } }, spec: { gcePersistentDisk: { pdName: 'pd-name' } } };
    expect(gce.translatePersistentVolume(pv).spec?.csi?.volumeHandle).toBe(handle);
  });

  it.each<[string, string]>([
    [
      'us-central1-a__us-east1-b',
      'failed to get region from zones: multiple or no regions gotten from zones, got: map[us-central1:{} us-east1:{}]',
    ],
    [
      'zone1__us-east1-b',
      'failed to get region from zones: zone in unexpected format, expected: {locale}-{region}-{zone}, got: zone1',
    ],
  ])('refuses the regional zones %s', (zones, message) => {
    const pv = { metadata: { labels: { [GA_ZONE]: zones } }, spec: { gcePersistentDisk: { pdName: 'pd' } } };
    expect(thrown(() => gce.translatePersistentVolume(pv))).toBe(message);
  });

  it('translates a read-only inline disk with its partition', () => {
    expect(
      gce.translateInlineVolume(
        { name: 'v', gcePersistentDisk: { pdName: 'foo', readOnly: true, partition: 3 } },
        '',
      ),
    ).toEqual({
      metadata: { name: 'pd.csi.storage.gke.io-foo' },
      spec: {
        csi: {
          driver: 'pd.csi.storage.gke.io',
          volumeHandle: 'projects/UNSPECIFIED/zones/UNSPECIFIED/disks/foo',
          readOnly: true,
          volumeAttributes: { partition: '3' },
        },
        accessModes: ['ReadOnlyMany'],
        volumeMode: 'Filesystem',
      },
    });
  });

  it("fails without a GCE PD source, with upstream's texts", () => {
    expect(thrown(() => gce.translatePersistentVolume(undefined))).toBe(
      'pv is nil or GCE Persistent Disk source not defined on pv',
    );
    expect(thrown(() => gce.translatePersistentVolume({ spec: {} }))).toBe(
      'pv is nil or GCE Persistent Disk source not defined on pv',
    );
    expect(thrown(() => gce.translateInlineVolume({ name: 'v' }, ''))).toBe(
      'volume is nil or GCE PD not defined on volume',
    );
  });
});

describe('AWS EBS', () => {
  const normal = 'vol-02399794d890f9375';

  it.each<[string, string, string | undefined]>([
    ['a bare volume ID', normal, undefined],
    ['aws:///{volumeId}', `aws:///${normal}`, undefined],
    ['aws://{zone}/{volumeId}', `aws://us-west-2a/${normal}`, undefined],
    ['a query and a fragment', `aws://us-west-2a/${normal}?a=b#c`, undefined],
    ['an escaped path and trailing slashes', 'aws://us-west-2a/vol-%302399794d890f9375//', undefined],
    [
      'an ID that is not vol-…',
      'aws://us-west-2a/02399794d890f9375',
      'Invalid format for AWS volume (aws://us-west-2a/02399794d890f9375)',
    ],
    [
      'a zone with a space',
      `aws://us west/${normal}`,
      `Invalid disk name (aws://us west/${normal}): parse "aws://us west/${normal}": invalid character " " in host name`,
    ],
    [
      'a zone with a bad port',
      `aws://zone:x/${normal}`,
      `Invalid disk name (aws://zone:x/${normal}): parse "aws://zone:x/${normal}": invalid port ":x" after host`,
    ],
    [
      'a bad escape',
      'aws:///vol-%zz',
      'Invalid disk name (aws:///vol-%zz): parse "aws:///vol-%zz": invalid URL escape "%zz"',
    ],
    [
      'a control character',
      'aws:///vol-1\n',
      'Invalid disk name (aws:///vol-1\n): parse "aws:///vol-1\\n": net/url: invalid control character in URL',
    ],
  ])('KubernetesVolumeIDToEBSVolumeID of %s', (_name, id, error) => {
    const result = kubernetesVolumeIdToEbsVolumeId(id);
    if (error === undefined) expect(result).toBe(normal);
    else expect(result instanceof Error ? result.message : result).toBe(error);
  });

  it.each<[string, InTreeVolume, string]>([
    [
      'a bare ID',
      { name: 'volume', awsElasticBlockStore: { volumeID: normal } },
      `ebs.csi.aws.com-${normal}`,
    ],
    [
      'aws:///',
      { name: 'volume', awsElasticBlockStore: { volumeID: `aws:///${normal}` } },
      `ebs.csi.aws.com-${normal}`,
    ],
    [
      'aws://{zone}/',
      { name: 'volume', awsElasticBlockStore: { volumeID: `aws://us-west-2a/${normal}` } },
      `ebs.csi.aws.com-${normal}`,
    ],
  ])('names the inline volume with %s after its EBS ID', (_name, volume, pvName) => {
    expect(ebs.translateInlineVolume(volume, '')).toEqual({
      metadata: { name: pvName },
      spec: {
        csi: { driver: 'ebs.csi.aws.com', volumeHandle: normal, volumeAttributes: { partition: '0' } },
        accessModes: ['ReadWriteOnce'],
      },
    });
  });

  it("fails for a bad ID or no source, with upstream's texts", () => {
    const bad = { name: 'volume', awsElasticBlockStore: { volumeID: 'aws://us-west-2a/02399794d890f9375' } };
    const message =
      'failed to translate Kubernetes ID to EBS Volume ID Invalid format for AWS volume (aws://us-west-2a/02399794d890f9375)';
    expect(thrown(() => ebs.translateInlineVolume(bad, ''))).toBe(message);
    expect(thrown(() => ebs.translatePersistentVolume({ spec: bad }))).toBe(message);
    expect(thrown(() => ebs.translateInlineVolume({ name: 'volume' }, ''))).toBe(
      'volume is nil or AWS EBS not defined on volume',
    );
    expect(thrown(() => ebs.translatePersistentVolume({ spec: {} }))).toBe(
      'pv is nil or AWS EBS not defined on pv',
    );
  });
});

describe('Azure Disk', () => {
  const diskURI = '/subscriptions/12/resourceGroups/23/providers/Microsoft.Compute/disks/name';

  it.each<[string, InTreeVolume | undefined, TranslatedPersistentVolume | string]>([
    ['no volume', undefined, 'volume is nil or Azure Disk not defined on volume'],
    ['no Azure Disk source', { name: '' }, 'volume is nil or Azure Disk not defined on volume'],
    [
      'an Azure Disk',
      { name: '', azureDisk: { diskName: 'diskname', diskURI: 'datadiskuri' } },
      {
        metadata: { name: 'datadiskuri' },
        spec: {
          csi: {
            driver: 'disk.csi.azure.com',
            volumeHandle: 'datadiskuri',
            volumeAttributes: { kind: 'Managed' },
          },
          accessModes: ['ReadWriteOnce'],
        },
      },
    ],
    [
      'a non-managed kind',
      { name: '', azureDisk: { diskName: 'diskname', diskURI: 'datadiskuri', kind: 'Dedicated' } },
      'kind(Dedicated) is not supported in csi migration',
    ],
    [
      'an empty caching mode, which is left out',
      {
        name: '',
        azureDisk: { diskURI: 'u', cachingMode: '', fsType: '', readOnly: false, kind: 'managed' },
      },
      {
        metadata: { name: 'u' },
        spec: {
          csi: {
            driver: 'disk.csi.azure.com',
            volumeHandle: 'u',
            volumeAttributes: { kind: 'Managed', fstype: '' },
          },
          accessModes: ['ReadWriteOnce'],
        },
      },
    ],
  ])('translates an inline volume with %s', (_name, volume, expected) => {
    if (typeof expected === 'string')
      expect(thrown(() => azureDisk.translateInlineVolume(volume, ''))).toBe(expected);
    else expect(azureDisk.translateInlineVolume(volume, '')).toEqual(expected);
  });

  it.each<[string, InTreePersistentVolume | undefined, TranslatedPersistentVolume | string]>([
    ['no PV', undefined, 'pv is nil or Azure Disk source not defined on pv'],
    ['no Azure Disk source', {}, 'pv is nil or Azure Disk source not defined on pv'],
    [
      'an Azure Disk',
      { spec: { azureDisk: { cachingMode: 'cachingmode', diskURI, fsType: 'fstype', readOnly: true } } },
      {
        spec: {
          csi: {
            driver: 'disk.csi.azure.com',
            fsType: 'fstype',
            readOnly: true,
            volumeAttributes: { cachingmode: 'cachingmode', fstype: 'fstype', kind: 'Managed' },
            volumeHandle: diskURI,
          },
        },
      },
    ],
    [
      'a non-managed kind',
      { spec: { azureDisk: { cachingMode: 'c', diskURI, fsType: 'f', readOnly: true, kind: 'Dedicated' } } },
      'kind(Dedicated) is not supported in csi migration',
    ],
    [
      'an empty caching mode, which is kept',
      { spec: { azureDisk: { diskURI, cachingMode: '' } } },
      {
        spec: {
          csi: {
            driver: 'disk.csi.azure.com',
            volumeHandle: diskURI,
            volumeAttributes: { cachingmode: '', kind: 'Managed' },
          },
        },
      },
    ],
  ])('translates a PV with %s', (_name, pv, expected) => {
    if (typeof expected === 'string')
      expect(thrown(() => azureDisk.translatePersistentVolume(pv))).toBe(expected);
    else expect(azureDisk.translatePersistentVolume(pv)).toEqual(expected);
  });
});

describe('Azure File', () => {
  const fileCsi = (handle: string, namespace: string) => ({
    driver: 'file.csi.azure.com',
    nodeStageSecretRef: { name: 'secretname', namespace },
    readOnly: true,
    volumeAttributes: { sharename: 'sharename' },
    volumeHandle: handle,
  });
  const inline = {
    name: 'name',
    azureFile: { readOnly: true, secretName: 'secretname', shareName: 'sharename' },
  };

  it.each<[string, InTreeVolume | undefined, string, TranslatedPersistentVolume | string]>([
    ['no volume', undefined, '', 'volume is nil or Azure File not defined on volume'],
    ['no Azure File source', { name: '' }, '', 'volume is nil or Azure File not defined on volume'],
    [
      'no pod namespace',
      inline,
      '',
      {
        metadata: { name: '#secretname#sharename#name#default' },
        spec: {
          csi: fileCsi('#secretname#sharename#name#default', 'default'),
          accessModes: ['ReadWriteMany'],
        },
      },
    ],
    [
      'a pod namespace',
      inline,
      'test',
      {
        metadata: { name: '#secretname#sharename#name#test' },
        spec: { csi: fileCsi('#secretname#sharename#name#test', 'test'), accessModes: ['ReadWriteMany'] },
      },
    ],
  ])('translates an inline volume with %s', (_name, volume, namespace, expected) => {
    if (typeof expected === 'string') {
      expect(thrown(() => azureFile.translateInlineVolume(volume, namespace))).toBe(expected);
    } else expect(azureFile.translateInlineVolume(volume, namespace)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['azure-storage-account-accountname-secret', 'accountname'],
    ['azure-storage-account-accountname-dup-secret', 'accountname-dup'],
    ['invalid', 'invalid'],
  ])('takes the storage account of the secret %s (or its whole name): %s', (secretName, account) => {
    const volume = { name: 'v', azureFile: { secretName, shareName: 's' } };
    expect(azureFile.translateInlineVolume(volume, 'ns').spec?.csi?.volumeHandle).toBe(`#${account}#s#v#ns`);
  });

  const rg = { 'kubernetes.io/azure-file-resource-group': 'rg' };
  const source = { shareName: 'sharename', secretName: 'secretname', readOnly: true };

  it.each<[string, InTreePersistentVolume | undefined, TranslatedPersistentVolume | string]>([
    ['no PV', undefined, 'pv is nil or Azure File source not defined on pv'],
    ['no Azure File source', {}, 'pv is nil or Azure File source not defined on pv'],
    [
      'no secret namespace anywhere',
      { metadata: { name: 'uuid', annotations: rg }, spec: { azureFile: source } },
      'could not find a secret namespace in PersistentVolumeSource or ClaimRef',
    ],
    [
      'a secret namespace',
      { metadata: { name: 'uuid' }, spec: { azureFile: { ...source, secretNamespace: 'secretnamespace' } } },
      {
        metadata: { name: 'uuid' },
        spec: { csi: fileCsi('#secretname#sharename#uuid#secretnamespace', 'secretnamespace') },
      },
    ],
    [
      'a resource group annotation',
      {
        metadata: { name: 'uuid', annotations: rg },
        spec: { azureFile: { ...source, secretNamespace: 'secretnamespace' } },
      },
      {
        metadata: { name: 'uuid', annotations: rg },
        spec: { csi: fileCsi('rg#secretname#sharename#uuid#secretnamespace', 'secretnamespace') },
      },
    ],
    [
      "the claim's namespace",
      {
        metadata: { name: 'uuid', annotations: rg },
        spec: { azureFile: source, claimRef: { namespace: 'secretnamespace' } },
      },
      {
        metadata: { name: 'uuid', annotations: rg },
        spec: {
          csi: fileCsi('rg#secretname#sharename#uuid#secretnamespace', 'secretnamespace'),
          claimRef: { namespace: 'secretnamespace' },
        },
      },
    ],
  ])('translates a PV with %s', (_name, pv, expected) => {
    if (typeof expected === 'string')
      expect(thrown(() => azureFile.translatePersistentVolume(pv))).toBe(expected);
    else expect(azureFile.translatePersistentVolume(pv)).toEqual(expected);
  });
});

describe('OpenStack Cinder', () => {
  it('translates a PV, its zone label becoming the driver topology', () => {
    const pv = pvWith(
      { cinder: { volumeID: 'vol1', fsType: 'ext4', readOnly: true } },
      { [GA_ZONE]: 'nova' },
    );
    expect(cinder.translatePersistentVolume(pv)).toEqual({
      metadata: { labels: { [GA_ZONE]: 'nova' } },
      spec: {
        csi: { driver: 'cinder.csi.openstack.org', volumeHandle: 'vol1', readOnly: true, fsType: 'ext4' },
        nodeAffinity: affinityOf([topology(CINDER_KEY, 'nova')]),
      },
    });
  });

  it('translates an inline volume', () => {
    expect(
      cinder.translateInlineVolume({ name: 'v', cinder: { volumeID: 'vol1', fsType: 'xfs' } }, ''),
    ).toEqual({
      metadata: { name: 'cinder.csi.openstack.org-vol1' },
      spec: {
        csi: { driver: 'cinder.csi.openstack.org', volumeHandle: 'vol1', fsType: 'xfs' },
        accessModes: ['ReadWriteOnce'],
      },
    });
  });

  it("fails without a Cinder source, with upstream's texts", () => {
    expect(thrown(() => cinder.translatePersistentVolume({ spec: {} }))).toBe(
      'pv is nil or Cinder not defined on pv',
    );
    expect(thrown(() => cinder.translateInlineVolume({ name: 'v' }, ''))).toBe(
      'volume is nil or Cinder not defined on volume',
    );
  });
});

describe('vSphere', () => {
  const name = 'pvc-d8b4475f-2c47-486e-9b57-43ae006f9b59';
  const path =
    '[vsanDatastore] 6785a85e-268e-6352-a2e8-02008b7afadd/kubernetes-dynamic-pvc-68734c9f-a679-42e6-a694-39632c51e31f.vmdk';
  const policy = 'vSAN Default Storage Policy';
  const inTree = (labels?: Record<string, string>): InTreePersistentVolume => ({
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: {
      vsphereVolume: { volumePath: path, fsType: 'ext4', storagePolicyName: policy },
      accessModes: ['ReadWriteOnce'],
    },
  });
  const translated = (labels?: Record<string, string>, nodeAffinity?: VolumeNodeAffinity) => ({
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: {
      csi: {
        driver: 'csi.vsphere.vmware.com',
        volumeHandle: path,
        fsType: 'ext4',
        volumeAttributes: { storagepolicyname: policy },
      },
      accessModes: ['ReadWriteOnce'],
      ...(nodeAffinity ? { nodeAffinity } : {}),
    },
  });
  const zoneAndRegion = affinityOf([
    topology('topology.csi.vmware.com/zone', 'z1'),
    topology('topology.csi.vmware.com/region', 'r1'),
  ]);
  const betaPair = { [BETA_ZONE]: 'z1', [BETA_REGION]: 'r1' };
  const gaPair = { [GA_ZONE]: 'z1', [GA_REGION]: 'r1' };

  it.each<[string, InTreePersistentVolume, TranslatedPersistentVolume | string]>([
    ['no vSphere source', {}, 'pv is nil or VsphereVolume not defined on pv'],
    ['no topology', inTree(), translated()],
    ['beta topology labels', inTree(betaPair), translated(betaPair, zoneAndRegion)],
    ['GA topology labels', inTree(gaPair), translated(gaPair, zoneAndRegion)],
    [
      'GA topology',
      { ...inTree(), spec: { ...inTree().spec, nodeAffinity: affinityOf([topology(GA_ZONE, 'z1')]) } },
      translated(undefined, affinityOf([topology('topology.csi.vmware.com/zone', 'z1')])),
    ],
  ])('translates a PV with %s', (_name, pv, expected) => {
    if (typeof expected === 'string')
      expect(thrown(() => vsphere.translatePersistentVolume(pv))).toBe(expected);
    else expect(vsphere.translatePersistentVolume(pv)).toEqual(expected);
  });

  it.each<[string, InTreeVolume, TranslatedPersistentVolume | string]>([
    ['no vSphere source', { name: '' }, 'volume is nil or VsphereVolume not defined on volume'],
    [
      'a volume path',
      {
        name: 'inlinevolume',
        vsphereVolume: { volumePath: '[vsanDatastore] volume/inlinevolume.vmdk', fsType: 'ext4' },
      },
      {
        metadata: { name: 'csi.vsphere.vmware.com-[vsanDatastore] volume/inlinevolume.vmdk' },
        spec: {
          csi: {
            driver: 'csi.vsphere.vmware.com',
            volumeHandle: '[vsanDatastore] volume/inlinevolume.vmdk',
            fsType: 'ext4',
          },
          accessModes: ['ReadWriteOnce'],
        },
      },
    ],
    [
      'a storage policy, which upstream dereferences through a nil source',
      { name: 'v', vsphereVolume: { volumePath: 'p', storagePolicyName: 'gold' } },
      NIL_POINTER_DEREFERENCE,
    ],
  ])('translates an inline volume with %s', (_name, volume, expected) => {
    if (typeof expected === 'string')
      expect(thrown(() => vsphere.translateInlineVolume(volume, ''))).toBe(expected);
    else expect(vsphere.translateInlineVolume(volume, '')).toEqual(expected);
  });
});

describe('Portworx', () => {
  it.each<[string, InTreeVolume | undefined, TranslatedPersistentVolume | string]>([
    [
      'a writable volume',
      { name: 'PortworxVol', portworxVolume: { volumeID: 'ID', fsType: 'type', readOnly: false } },
      {
        metadata: { name: 'pxd.portworx.com-ID' },
        spec: {
          csi: { driver: 'pxd.portworx.com', volumeHandle: 'ID', fsType: 'type' },
          accessModes: ['ReadWriteOnce'],
        },
      },
    ],
    [
      'a read-only volume (ReadOnlyMany, readOnly not carried)',
      { name: 'v', portworxVolume: { volumeID: 'ID', readOnly: true } },
      {
        metadata: { name: 'pxd.portworx.com-ID' },
        spec: { csi: { driver: 'pxd.portworx.com', volumeHandle: 'ID' }, accessModes: ['ReadOnlyMany'] },
      },
    ],
    ['no volume', undefined, 'volume is nil or PortworxVolume not defined on volume'],
  ])('translates an inline volume: %s', (_name, volume, expected) => {
    if (typeof expected === 'string')
      expect(thrown(() => portworx.translateInlineVolume(volume, 'ns'))).toBe(expected);
    else expect(portworx.translateInlineVolume(volume, 'ns')).toEqual(expected);
  });

  const secret = { name: 'test-secret', namespace: 'test-namespace' };
  const annotations = {
    'openstorage.io/auth-secret-name': 'test-secret',
    'openstorage.io/auth-secret-namespace': 'test-namespace',
  };
  const spec = { accessModes: ['ReadWriteOnce'], claimRef: { name: 'test-pvc', namespace: 'default' } };
  const source = { portworxVolume: { volumeID: 'ID1111', fsType: 'type', readOnly: false } };

  it.each<[string, InTreePersistentVolume | undefined, TranslatedPersistentVolume | string]>([
    [
      'no Portworx source',
      { metadata: { name: 'pxd.portworx.com' }, spec },
      'pv is nil or PortworxVolume not defined on pv',
    ],
    [
      'a volume',
      { metadata: { name: 'pxd.portworx.com' }, spec: { ...spec, ...source } },
      {
        metadata: { name: 'pxd.portworx.com' },
        spec: { ...spec, csi: { driver: 'pxd.portworx.com', volumeHandle: 'ID1111', fsType: 'type' } },
      },
    ],
    [
      'secret annotations',
      { metadata: { name: 'pxd.portworx.com', annotations }, spec: { ...spec, ...source } },
      {
        metadata: { name: 'pxd.portworx.com', annotations },
        spec: {
          ...spec,
          csi: {
            driver: 'pxd.portworx.com',
            volumeHandle: 'ID1111',
            fsType: 'type',
            controllerPublishSecretRef: secret,
            nodeStageSecretRef: secret,
            nodePublishSecretRef: secret,
            controllerExpandSecretRef: secret,
            nodeExpandSecretRef: secret,
          },
        },
      },
    ],
    ['no PV', undefined, 'pv is nil or PortworxVolume not defined on pv'],
  ])('translates a PV with %s', (_name, pv, expected) => {
    if (typeof expected === 'string')
      expect(thrown(() => portworx.translatePersistentVolume(pv))).toBe(expected);
    else expect(portworx.translatePersistentVolume(pv)).toEqual(expected);
  });
});

describe("Go's formatting in error texts", () => {
  it.each<[string, string]>([
    ['pv-1', '"pv-1"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\n\t\u0001\u007f', '"\\n\\t\\x01\\x7f"'],
    ['é\u00a0\u{1f600}\u200b', '"é\\u00a0\u{1f600}\\u200b"'],
  ])('quotes %j as strconv.Quote does', (text, quoted) => {
    expect(goQuote(text)).toBe(quoted);
  });

  it('prints a set of strings as %v prints a sets.String', () => {
    expect(goStringSet(['us-east1', 'europe-west1', 'us-east1'])).toBe('map[europe-west1:{} us-east1:{}]');
  });
});
