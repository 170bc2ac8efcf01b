/**
 * A child for remove-tree-dentries.test.ts: on each stdin line "<mode> <count>" it makes <count>
 * pod directories of unique names under argv[2], as the kubelet lays one out, and removes each
 * (mode removeTree: through removeTree; rm: fs.rm where it is), then answers "done".
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { removeTree } from '../../src/remove-tree';

const parent = process.argv[2] ?? '';
createInterface({ input: process.stdin }).on('line', async (line) => {
  const [mode, count] = line.split(' ');
  for (let i = 0; i < Number(count); i++) {
    const dir = join(parent, randomUUID());
    mkdirSync(join(dir, 'containers', 'app'), { recursive: true });
    writeFileSync(join(dir, 'etc-hosts'), '127.0.0.1 localhost\n');
    if (mode === 'removeTree') await removeTree(dir);
    else await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write('done\n');
});
process.stdout.write('ready\n');
