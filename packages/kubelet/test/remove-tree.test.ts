import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isParkingName, parkingNames, removeTree } from '../src/remove-tree';

/** A pod directory as the kubelet lays one out: etc-hosts and a container's termination log. */
function podTree(parent: string, uid: string): string {
  const dir = join(parent, uid);
  mkdirSync(join(dir, 'containers', 'app'), { recursive: true });
  writeFileSync(join(dir, 'etc-hosts'), '127.0.0.1 localhost\n');
  writeFileSync(join(dir, 'containers', 'app', '0a1b2c3d'), '');
  return dir;
}

describe('removeTree', () => {
  let parent: string;
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'na-remove-tree-'));
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  it('removes the tree and leaves nothing in its directory, the parking name included', async () => {
    const keep = podTree(parent, 'live-pod');
    await removeTree(podTree(parent, 'removed-pod'));
    expect(readdirSync(parent)).toEqual(['live-pod']);
    expect(existsSync(join(keep, 'etc-hosts'))).toBe(true);
  });

  it('is done when the tree is already gone', async () => {
    await expect(removeTree(join(parent, 'never-made'))).resolves.toBeUndefined();
    expect(readdirSync(parent)).toEqual([]);
  });

  it('removes many trees at once, more than there are parking names, and leaves none behind', async () => {
    const trees = Array.from({ length: 3 * parkingNames }, (_, i) => podTree(parent, `pod-${i}`));
    await Promise.all(trees.map((tree) => removeTree(tree)));
    expect(readdirSync(parent)).toEqual([]);
  });

  it('clears a tree left under a parking name by a kubelet that stopped mid-removal', async () => {
    podTree(parent, '.removing-0');
    await removeTree(podTree(parent, 'removed-pod'));
    expect(readdirSync(parent)).toEqual([]);
  });

  it('clears a file left under a parking name', async () => {
    writeFileSync(join(parent, '.removing-0'), 'not a directory');
    await removeTree(podTree(parent, 'removed-pod'));
    expect(readdirSync(parent)).toEqual([]);
  });

  it('tells a parking name from a pod uid', () => {
    expect(isParkingName('.removing-3')).toBe(true);
    expect(isParkingName('0f6a2c9e-1b7d-4c53-9a0e-5d2f8e7b6a41')).toBe(false);
  });
});
