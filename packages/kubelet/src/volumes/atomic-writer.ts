import { randomBytes } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { VolumeSetupError } from '../errors';

/** One file of a projected payload: contents and permission bits. */
export interface FileProjection {
  data: Buffer | string;
  mode: number;
}

/** Relative path → contents, as written into a configMap/secret/downwardAPI/projected volume. */
export type Payload = Map<string, FileProjection>;

const dataDirName = '..data';
const newDataDirName = '..data_tmp';

/**
 * Upstream AtomicWriter: writes a whole payload into a volume directory so that a reader inside
 * the container sees either the old or the new set of files, never a mix. Files live in a
 * timestamped `..<time>` directory; `..data` is a symlink to it, swapped with one rename; the
 * user-visible names are symlinks through `..data`. Returns whether anything changed.
 */
export async function writeAtomically(
  targetDir: string,
  payload: Payload,
  now: Date = new Date(),
): Promise<boolean> {
  for (const path of payload.keys()) validatePayloadPath(path);
  await mkdir(targetDir, { recursive: true });

  const dataLink = join(targetDir, dataDirName);
  const oldTsName = await readlink(dataLink).catch(() => undefined);
  if (oldTsName !== undefined && (await sameContents(join(targetDir, oldTsName), payload))) return false;

  // New timestamped directory, filled before anyone can see it.
  const tsName = `..${timestamp(now)}.${randomBytes(4).toString('hex')}`;
  const tsDir = join(targetDir, tsName);
  await mkdir(tsDir, { mode: 0o755 });
  for (const [path, file] of payload) {
    const full = join(tsDir, path);
    await mkdir(dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, file.data, { mode: file.mode });
    // writeFile's mode is filtered by the umask; set it exactly.
    await chmod(full, file.mode);
  }

  // Swap ..data in one rename(2).
  const tmpLink = join(targetDir, newDataDirName);
  await rm(tmpLink, { force: true });
  await symlink(tsName, tmpLink);
  await rename(tmpLink, dataLink);

  // User-visible top-level names point through ..data.
  const visible = new Set([...payload.keys()].map((path) => path.split('/')[0]!));
  for (const name of visible) {
    const link = join(targetDir, name);
    const existing = await lstat(link).catch(() => undefined);
    if (existing?.isSymbolicLink()) continue;
    if (existing) await rm(link, { recursive: true, force: true });
    await symlink(join(dataDirName, name), link);
  }
  // Names no longer in the payload disappear.
  for (const entry of await readdir(targetDir)) {
    if (entry.startsWith('..') || visible.has(entry)) continue;
    await rm(join(targetDir, entry), { recursive: true, force: true });
  }
  if (oldTsName !== undefined && oldTsName !== tsName)
    await rm(join(targetDir, oldTsName), { recursive: true, force: true });
  return true;
}

/** Paths must stay inside the volume and may not collide with the writer's own `..` names. */
export function validatePayloadPath(path: string): void {
  if (path === '' || path.startsWith('/'))
    throw new VolumeSetupError('items.path', path, 'must be a non-empty relative path');
  if (normalize(path) !== path.replace(/\/+$/, ''))
    throw new VolumeSetupError('items.path', path, 'must be a clean path');
  const parts = path.split(sep);
  if (parts.includes('..')) throw new VolumeSetupError('items.path', path, "must not contain '..'");
  if (parts[0]!.startsWith('..')) throw new VolumeSetupError('items.path', path, "must not start with '..'");
}

async function sameContents(tsDir: string, payload: Payload): Promise<boolean> {
  const existing = await listFiles(tsDir).catch(() => undefined);
  if (!existing || existing.length !== payload.size) return false;
  for (const path of existing) {
    const file = payload.get(path);
    if (!file) return false;
    const full = join(tsDir, path);
    const [content, info] = await Promise.all([readFile(full), stat(full)]);
    if (!content.equals(Buffer.from(file.data)) || (info.mode & 0o7777) !== file.mode) return false;
  }
  return true;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out;
}

function timestamp(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(
    now.getUTCMinutes(),
  )}_${pad(now.getUTCSeconds())}`;
}
