import { mkdir, open, stat } from 'node:fs/promises';
import type { HostPathType } from '../api/pod-types';
import { VolumeSetupError } from '../errors';

/**
 * Upstream hostPath type checks: the *OrCreate types create what is missing (directories 0755,
 * files 0644), the others require the path to exist and be of that kind; '' checks nothing.
 */
export async function checkHostPath(
  path: string,
  type: HostPathType = '',
  field = 'hostPath.path',
): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!info) {
        await mkdir(path, { recursive: true, mode: 0o755 });
        return;
      }
      if (!info.isDirectory()) throw new VolumeSetupError(field, path, 'exists and is not a directory');
      return;
    case 'FileOrCreate':
      if (!info) {
        // The parent must exist: upstream does not create directories for FileOrCreate.
        try {
          const handle = await open(path, 'a', 0o644);
          await handle.close();
        } catch (error) {
          throw new VolumeSetupError(field, path, `cannot create file: ${(error as Error).message}`);
        }
        return;
      }
      if (!info.isFile()) throw new VolumeSetupError(field, path, 'exists and is not a file');
      return;
    case 'Directory':
      if (!info?.isDirectory())
        throw new VolumeSetupError(field, path, 'hostPath type check failed: is not a directory');
      return;
    case 'File':
      if (!info?.isFile())
        throw new VolumeSetupError(field, path, 'hostPath type check failed: is not a file');
      return;
    case 'Socket':
      if (!info?.isSocket())
        throw new VolumeSetupError(field, path, 'hostPath type check failed: is not a socket file');
      return;
    case 'CharDevice':
      if (!info?.isCharacterDevice())
        throw new VolumeSetupError(field, path, 'hostPath type check failed: is not a character device');
      return;
    case 'BlockDevice':
      if (!info?.isBlockDevice())
        throw new VolumeSetupError(field, path, 'hostPath type check failed: is not a block device');
      return;
    default:
      throw new VolumeSetupError('hostPath.type', type, 'unknown hostPath type');
  }
}
