import { mkdir, rm } from 'node:fs/promises';

/**
 * How the fake CSI plugin makes a volume appear at a path. Injected: real bind mounts need
 * CAP_SYS_ADMIN and a mount namespace the test owns, which a unit test in the host's namespace has
 * not, and the host's mount table must never change.
 */
export interface CsiVolumeMounter {
  /** Make `source`'s content visible at `target` (create `target` first). */
  bind(source: string, target: string): Promise<void>;
  /** Undo `bind` at `target` and remove the directory. */
  unbind(target: string): Promise<void>;
}

/**
 * The default: records each bind and creates (and later removes) the target directory, mounting
 * nothing. The plugin's own record of what is bound where (`FakeCsiPlugin.bindings`) stands for
 * the mount table.
 */
export const directoryOnlyMounter: CsiVolumeMounter = {
  async bind(_source, target) {
    await mkdir(target, { recursive: true });
  },
  async unbind(target) {
    await rm(target, { recursive: true, force: true });
  },
};
