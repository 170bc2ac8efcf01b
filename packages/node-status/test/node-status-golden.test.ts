import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DECLARED_FEATURES_V136, declaredFeatures, resolveNodeStatusConfig } from '../src/index';
import {
  buildNodeStatus,
  nextConditions,
  nodeAddresses,
  nodeStatusHasChanged,
} from '../src/node-object/index';

/** The Node the upstream v1.36.3 kubelet wrote (fidelity/ in the repository, never edited). */
const UPSTREAM_NODE = fileURLToPath(
  new URL('../../../fidelity/pod-status-v1.36/node.upstream.yaml', import.meta.url),
);
// biome-ignore lint/suspicious/noExplicitAny: recorded wire JSON
const upstream: any = parse(readFileSync(UPSTREAM_NODE, 'utf8'));

/** Our status for the recorded machine (n1, 10.77.0.1, containerd 1.6.20), with default gates. */
function oursFor(featureGates: Record<string, boolean> = {}) {
  const config = resolveNodeStatusConfig({ nodeName: 'n1', nodeIPs: ['10.77.0.1'], featureGates });
  const info = upstream.status.nodeInfo;
  return buildNodeStatus({
    capacity: upstream.status.capacity,
    allocatable: upstream.status.allocatable,
    conditions: nextConditions([], { ready: true }, new Date(0)),
    addresses: nodeAddresses(config.nodeIPs, config.hostname),
    machine: {
      numCores: 2,
      memoryCapacityBytes: 0,
      ephemeralStorageBytes: 0,
      machineID: info.machineID,
      systemUUID: info.systemUUID,
      bootID: info.bootID,
      kernelVersion: info.kernelVersion,
      osImage: info.osImage,
      operatingSystem: info.operatingSystem,
      architecture: info.architecture,
      hostname: 'n1',
      hugePages: [],
    },
    runtime: { runtimeName: 'containerd', runtimeVersion: '1.6.20' },
    images: upstream.status.images,
    maxImages: config.nodeStatusMaxImages,
    kubeletPort: config.port,
    kubeletVersion: config.kubeletVersion,
    declaredFeatures: config.declaredFeatures,
  });
}

describe('node status against the upstream v1.36.3 kubelet (node.upstream.yaml)', () => {
  it('has the same status fields, in the same shape', () => {
    const ours = oursFor();
    expect(Object.keys(ours).sort()).toEqual(Object.keys(upstream.status).sort());
    expect(Object.keys(ours.nodeInfo).sort()).toEqual(Object.keys(upstream.status.nodeInfo).sort());
  });

  it('declares the same features, sorted as upstream sends them', () => {
    expect(oursFor().declaredFeatures).toEqual(upstream.status.declaredFeatures);
  });

  it('matches addresses, daemon endpoints, node info and images field by field', () => {
    const ours = oursFor();
    expect(ours.addresses).toEqual(upstream.status.addresses);
    expect(ours.daemonEndpoints).toEqual(upstream.status.daemonEndpoints);
    expect(ours.nodeInfo).toEqual(upstream.status.nodeInfo);
    expect(ours.images).toEqual(upstream.status.images);
  });

  it('has the four conditions with upstream reasons and messages, in upstream order', () => {
    const strip = (c: { type: string; status: string; reason?: string; message?: string }) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
    });
    expect(oursFor().conditions.map(strip)).toEqual(upstream.status.conditions.map(strip));
  });
});

describe('declaredFeatures (KEP-5328)', () => {
  it('lists every v1.36 declared feature with default gates, sorted', () => {
    expect(declaredFeatures()).toEqual([...DECLARED_FEATURES_V136].sort());
  });

  it('leaves out a feature whose gate is turned off', () => {
    expect(declaredFeatures({ RestartAllContainersOnContainerExits: false })).toEqual([
      'ExtendWebSocketsToKubelet',
      'InPlacePodLevelResourcesVerticalScaling',
      'InPlacePodVerticalScalingInitContainers',
    ]);
  });

  it('sends no declaredFeatures field when NodeDeclaredFeatures is off', () => {
    expect(declaredFeatures({ NodeDeclaredFeatures: false })).toEqual([]);
    expect(oursFor({ NodeDeclaredFeatures: false })).not.toHaveProperty('declaredFeatures');
  });

  it('makes the reporter patch again when the server lacks or differs in them', () => {
    const ours = oursFor();
    const stored = JSON.parse(JSON.stringify(ours));
    expect(nodeStatusHasChanged(stored, ours)).toBe(false);
    delete stored.declaredFeatures;
    expect(nodeStatusHasChanged(stored, ours)).toBe(true);
    stored.declaredFeatures = ours.declaredFeatures?.slice(1);
    expect(nodeStatusHasChanged(stored, ours)).toBe(true);
  });
});
