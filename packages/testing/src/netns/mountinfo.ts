/** One mount of /proc/self/mountinfo, its paths unescaped. */
export interface MountinfoEntry {
  /** The filesystem's device, `major:minor` (field 3). */
  device: string;
  /** The directory of the mounted filesystem shown at the mount point (field 4). */
  root: string;
  /** Where it is mounted (field 5). */
  point: string;
  /** The filesystem type, the first field after the " - " separator. */
  fsType: string;
  /** Where it comes from (a device's path, or a name such as `tmpfs`), the field after the type. */
  source: string;
}

/** The mounts of /proc/<pid>/mountinfo text; lines without the separator are skipped. */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const entries: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const [, , device, root, point] = line.slice(0, separator).split(' ');
    const [fsType, source = ''] = line.slice(separator + 3).split(' ');
    if (!device || !root || !point || !fsType) continue;
    entries.push({
      device,
      root: unescapeMountPath(root),
      point: unescapeMountPath(point),
      fsType,
      source: unescapeMountPath(source),
    });
  }
  return entries;
}

// mountinfo escapes space, tab, newline and backslash as octal.
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
