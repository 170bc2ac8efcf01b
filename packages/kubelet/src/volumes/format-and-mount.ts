import { isCommandNotFoundError, runCommand } from '@nodeagent/primitives';

/** The Debian packages of the tools used, named when one is missing. */
const TOOL_PACKAGES: Record<string, string> = {
  blkid: 'util-linux',
  fsck: 'util-linux',
  mount: 'mount',
  'mkfs.ext3': 'e2fsprogs',
  'mkfs.ext4': 'e2fsprogs',
  'mkfs.xfs': 'xfsprogs',
};

/**
 * Runs a tool to its end (mount-utils gives these no time limit: formatting a large disk takes
 * long) and answers its exit code (-1 when a signal ended it) and combined output; a missing
 * tool rejects with a CommandNotFoundError naming it and its package.
 */
async function run(argv: string[]): Promise<{ code: number; output: string }> {
  const tool = argv[0]!;
  const { stdout, stderr, exitCode } = await runCommand(argv, {
    timeoutMs: Number.POSITIVE_INFINITY,
    ...(TOOL_PACKAGES[tool] ? { debianPackage: TOOL_PACKAGES[tool] } : {}),
  });
  return { code: exitCode ?? -1, output: `${stdout}${stderr}` };
}

/** fsck's exit code for errors it found and left (mount-utils' fsckErrorsUncorrected). */
const FSCK_ERRORS_UNCORRECTED = 4;

/**
 * The filesystem blkid finds on `source` (mount-utils getDiskFormat): '' when there is none (exit
 * 2), "unknown data, probably partitions" for a partition table without a filesystem.
 */
async function diskFormat(source: string): Promise<string> {
  const args = ['-p', '-s', 'TYPE', '-s', 'PTTYPE', '-o', 'export', source];
  const { code, output } = await run(['blkid', ...args]);
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
    const formatted = await run([`mkfs.${fsType}`, ...args]);
    if (formatted.code !== 0)
      throw new Error(
        `format of disk ${JSON.stringify(source)} failed: type:(${JSON.stringify(fsType)}) target:(${JSON.stringify(target)}) options:(${JSON.stringify(args.join(' '))}) errcode:(exit status ${formatted.code}) output:(${formatted.output}) `,
      );
  } else if (!readOnly) {
    // fsck missing: mount-utils logs it and mounts.
    const checked = await run(['fsck', '-a', source]).catch((error: unknown) => {
      if (isCommandNotFoundError(error)) return { code: 0, output: '' };
      throw error;
    });
    if (checked.code === FSCK_ERRORS_UNCORRECTED)
      throw new Error(
        `'fsck' found errors on device ${source} but could not correct them: ${checked.output}`,
      );
    // Errors it corrected (1) or its other failures: mount-utils logs them and mounts.
  }
  const args = ['-t', fsType, ...(options.length > 0 ? ['-o', options.join(',')] : []), source, target];
  const mounted = await run(['mount', ...args]);
  if (mounted.code !== 0)
    throw new Error(
      `mount failed: exit status ${mounted.code}\nMounting command: mount\nMounting arguments: ${args.join(' ')}\nOutput: ${mounted.output}`,
    );
}
