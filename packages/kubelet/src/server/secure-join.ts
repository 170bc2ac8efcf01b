import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';

// github.com/cyphar/filepath-securejoin's SecureJoin, which upstream's node log query uses to
// place a queried file under the log directory before it stats it: the path is walked a
// component at a time and every symlink met is expanded as if the root were `/` (an absolute
// target starts again at the root, `..` never climbs above it), so the result always lies under
// the root, whatever the links say. A missing component is taken as it is.

/** securejoin's maxSymlinkLimit. */
const maxSymlinks = 255;

/** Whether an lstat error means "not there" to securejoin (ENOENT, ENOTDIR). */
const notExist = (error: unknown) =>
  ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/** SecureJoin(root, unsafePath): the path under `root`, or Go's error text for a link loop. */
export async function secureJoin(
  root: string,
  unsafePath: string,
): Promise<{ path: string } | { error: string }> {
  let current = '';
  let remaining = unsafePath;
  let links = 0;
  while (remaining !== '') {
    const slash = remaining.indexOf('/');
    const part = slash < 0 ? remaining : remaining.slice(0, slash);
    remaining = slash < 0 ? '' : remaining.slice(slash + 1);
    const next = join('/', current, part);
    if (next === '/') {
      current = '';
      continue;
    }
    const full = `${root}/${next}`;
    let isLink = false;
    try {
      isLink = (await lstat(full)).isSymbolicLink();
    } catch (error) {
      if (!notExist(error)) throw error;
    }
    if (!isLink) {
      current = next;
      continue;
    }
    if (++links > maxSymlinks)
      return { error: `SecureJoin ${root}/${unsafePath}: too many levels of symbolic links` };
    const dest = await readlink(full);
    remaining = `${dest}/${remaining}`;
    if (dest.startsWith('/')) current = '';
  }
  return { path: join(root, join('/', current)) };
}
