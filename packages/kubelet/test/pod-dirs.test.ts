import { describe, expect, it } from 'vitest';
import * as dirs from '../src/pod-dirs';

// Upstream's layout under --root-dir (kubelet_getters.go): drivers and node tools find a pod's
// data at these paths.
describe('pod directories', () => {
  it('lays out a pod under <rootDir>/pods/<uid> as upstream does', () => {
    const root = '/var/lib/kubelet';
    expect(dirs.podsDir(root)).toBe('/var/lib/kubelet/pods');
    expect(dirs.podDir(root, 'u-1')).toBe('/var/lib/kubelet/pods/u-1');
    expect(dirs.podVolumesDir(root, 'u-1')).toBe('/var/lib/kubelet/pods/u-1/volumes');
    expect(dirs.podVolumeDevicesDir(root, 'u-1')).toBe('/var/lib/kubelet/pods/u-1/volumeDevices');
    expect(dirs.podPluginsDir(root, 'u-1')).toBe('/var/lib/kubelet/pods/u-1/plugins');
    expect(dirs.podContainerDir(root, 'u-1', 'app')).toBe('/var/lib/kubelet/pods/u-1/containers/app');
  });

  it('normalises a root given with a trailing slash', () => {
    expect(dirs.podDir('/tmp/k/', 'u')).toBe('/tmp/k/pods/u');
  });
});
