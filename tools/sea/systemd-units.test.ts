import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serviceSection } from './systemd-unit.mjs';
import { seaTargets } from './targets.mjs';

const repo = join(import.meta.dirname, '..', '..');

const serviceEnvironment = (path: string) => serviceSection(join(repo, path)).environment;

const semiSpaceMb = (name: string) => seaTargets().find((t) => t.name === name)?.maxSemiSpaceSizeMb;

describe('deploy/systemd', () => {
  // One malloc arena for the kubelet is the unit's setting: the executable does not set it itself.
  it.each(['deploy/systemd/nodeagent-kubelet.service', 'deploy/systemd/kubelet.service.d/20-nodeagent.conf'])(
    '%s sets MALLOC_ARENA_MAX=1',
    (path) => {
      expect(serviceEnvironment(path).MALLOC_ARENA_MAX).toBe('1');
    },
  );

  // A fixed mmap threshold (glibc's default) keeps start-up's large one-off buffers from raising
  // it, and the arena's resident size with it, for the kubelet's life.
  it.each(['deploy/systemd/nodeagent-kubelet.service', 'deploy/systemd/kubelet.service.d/20-nodeagent.conf'])(
    '%s holds MALLOC_MMAP_THRESHOLD_ at 128 KiB',
    (path) => {
      expect(serviceEnvironment(path).MALLOC_MMAP_THRESHOLD_).toBe('131072');
    },
  );

  // The multi-call executable's one blob cannot carry a cap per agent: each unit gives its
  // agent's, the one its standalone executable carries (targets.mjs).
  it.each([
    ['deploy/systemd/nodeagent-kubelet.service', 'nodeagent-kubelet'],
    ['deploy/systemd/kubelet.service.d/20-nodeagent.conf', 'nodeagent-kubelet'],
    ['deploy/systemd/nodeagent-kube-proxy.service', 'nodeagent-kube-proxy'],
  ])("%s sets V8's young generation cap of %s", (path, name) => {
    expect(semiSpaceMb(name)).toBeGreaterThan(0);
    expect(serviceEnvironment(path).NODE_OPTIONS).toBe(`--max-semi-space-size=${semiSpaceMb(name)}`);
  });
});
