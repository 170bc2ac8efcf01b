import { execFile } from 'node:child_process';

/** What a command ended with: its exit code (-1 when it could not run) and combined output. */
interface CommandResult {
  code: number;
  output: string;
  /** The executable was not found (ENOENT). */
  missing: boolean;
}

function runCommand(file: string, args: string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({
        code,
        output: `${stdout}${stderr}`,
        missing: (error as NodeJS.ErrnoException | null)?.code === 'ENOENT',
      });
    });
  });
}

/** fsck's exit code for errors it found and left (mount-utils' fsckErrorsUncorrected). */
const FSCK_ERRORS_UNCORRECTED = 4;

/**
 * The filesystem blkid finds on `source` (mount-utils getDiskFormat): '' when there is none (exit
 * 2), "unknown data, probably partitions" for a partition table without a filesystem.
 */
async function diskFormat(source: string): Promise<string> {
  const args = ['-p', '-s', 'TYPE', '-s', 'PTTYPE', '-o', 'export', source];
  const { code, output } = await runCommand('blkid', args);
  if (code === 2) return '';
  if (code !== 0) throw new Error(`exit status ${code}: blkid ${args.join(' ')} failed: ${output.trim()}`);
  const fields = new Map(
    output
      .split('\n')
      .map((line) => line.split('='))
      .filter((pair) => pair.length === 2)
      .map(([key, value]) => [key!.trim(), value!.trim()]),
  );
  if (fields.has('PTTYPE') && !fields.has('TYPE')) return 'unknown data, probably partitions';
  return fields.get('TYPE') ?? '';
}

/**
 * mount-utils' SafeFormatAndMount.FormatAndMount, for a local PersistentVolume's block device:
 * a device without a filesystem is formatted with mkfs.<fsType> (ext3/ext4 with `-F -m0`, xfs with
 * `-f`), never when it is to be mounted read-only (`ro` in `options`); a formatted one mounted
 * read-write is checked with `fsck -a` first (errors it corrected are fine, ones it could not fail
 * the mount); then `mount -t <fsType> -o <options> <source> <target>`. The failures read as
 * mount-utils words them.
 */
export async function systemFormatAndMount(
  source: string,
  target: string,
  fsType: string,
  options: readonly string[],
): Promise<void> {
  const readOnly = options.includes('ro');
  const existing = await diskFormat(source);
  if (existing === '') {
    if (readOnly)
      throw new Error(`cannot mount unformatted disk ${source} as we are manipulating it in read-only mode`);
    const args =
      fsType === 'ext4' || fsType === 'ext3'
        ? ['-F', '-m0', source]
        : fsType === 'xfs'
          ? ['-f', source]
          : [source];
    const formatted = await runCommand(`mkfs.${fsType}`, args);
    if (formatted.code !== 0)
      throw new Error(
        `format of disk ${JSON.stringify(source)} failed: type:(${JSON.stringify(fsType)}) target:(${JSON.stringify(target)}) options:(${JSON.stringify(args.join(' '))}) errcode:(exit status ${formatted.code}) output:(${formatted.output}) `,
      );
  } else if (!readOnly) {
    const checked = await runCommand('fsck', ['-a', source]);
    if (checked.code === FSCK_ERRORS_UNCORRECTED)
      throw new Error(
        `'fsck' found errors on device ${source} but could not correct them: ${checked.output}`,
      );
    // Errors it corrected (1), fsck missing or its other failures: mount-utils logs them and mounts.
  }
  const args = ['-t', fsType, ...(options.length > 0 ? ['-o', options.join(',')] : []), source, target];
  const mounted = await runCommand('mount', args);
  if (mounted.code !== 0)
    throw new Error(
      `mount failed: exit status ${mounted.code}\nMounting command: mount\nMounting arguments: ${args.join(' ')}\nOutput: ${mounted.output}`,
    );
}
