import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { VmPrerequisiteError } from './errors';
import { initScript } from './init-script';
import type { GuestKernel } from './kernel';
import type { GuestInit } from './systemd-boot';

/** Modules the initramfs needs before it can reach /lib/modules on the shared root. */
const bootModules = ['virtio_mmio', 'virtiofs', 'overlay'];

/** Module files (in load order, dependencies first) for `names`, resolved by the host's modprobe. */
export function moduleLoadOrder(kernel: GuestKernel, names: readonly string[]): string[] {
  const files: string[] = [];
  for (const name of names) {
    const out = execFileSync('modprobe', ['-d', kernel.root, '-S', kernel.version, '--show-depends', name], {
      encoding: 'utf8',
    });
    for (const line of out.split('\n')) {
      const m = /^insmod (\S+)/.exec(line.trim());
      if (m?.[1] && !files.includes(m[1])) files.push(m[1]);
    }
  }
  return files;
}

function moduleName(file: string): string {
  return basename(file).replace(/\.ko(\.xz|\.zst|\.gz)?$/, '');
}

/**
 * Returns the path of a gzip'd newc initramfs for `kernel`, building it on first use. Cached in
 * the temp dir keyed by kernel version and a hash of the init script, and published with an atomic
 * rename so concurrent builders never see a half-written file.
 */
export function ensureInitramfs(
  kernel: GuestKernel,
  cacheRoot = join(tmpdir(), 'nodeagent-vm-cache'),
  init: GuestInit = 'sh',
): string {
  const busybox = '/bin/busybox';
  if (!existsSync(busybox))
    throw new VmPrerequisiteError('busybox', busybox, 'missing (apt install busybox-static)');
  const files = moduleLoadOrder(kernel, bootModules);
  const names = files.map(moduleName);
  // A kernel unpacked outside the host's /lib/modules: the guest looks for its modules there.
  const script = initScript(
    names,
    kernel.root === '/' ? undefined : join(kernel.root, 'lib', 'modules'),
    init,
  );
  const key = createHash('sha256').update(script).update(files.join('\n')).digest('hex').slice(0, 16);
  const target = join(cacheRoot, `initramfs-${kernel.version}-${key}.cpio.gz`);
  if (existsSync(target)) return target;

  mkdirSync(cacheRoot, { recursive: true });
  const work = mkdtempSync(join(cacheRoot, 'build-'));
  try {
    const root = join(work, 'root');
    for (const dir of ['bin', 'mods', 'newroot', 'proc', 'sys', 'dev'])
      mkdirSync(join(root, dir), { recursive: true });
    copyFileSync(busybox, join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const file of files) {
      const dest = join(root, 'mods', `${moduleName(file)}.ko`);
      // busybox insmod cannot read compressed modules: unpack them on the host.
      if (file.endsWith('.ko.xz'))
        writeFileSync(dest, execFileSync('xz', ['-dc', file], { maxBuffer: 1 << 28 }));
      else if (file.endsWith('.ko.zst'))
        writeFileSync(dest, execFileSync('zstd', ['-dc', file], { maxBuffer: 1 << 28 }));
      else if (file.endsWith('.ko.gz'))
        writeFileSync(dest, execFileSync('gzip', ['-dc', file], { maxBuffer: 1 << 28 }));
      else copyFileSync(file, dest);
    }
    writeFileSync(join(root, 'init'), script, { mode: 0o755 });
    const partial = join(work, 'initramfs.cpio.gz');
    execFileSync('sh', [
      '-c',
      `cd "$1" && find . | sort | cpio -o -H newc --quiet | gzip -1 > "$2"`,
      'sh',
      root,
      partial,
    ]);
    renameSync(partial, target);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
