import { statfs } from 'node:fs/promises';
import { readPseudoFile } from '@nodeagent/primitives/pseudo-file';

/** What statfs(2) reports, in the units Node's fs.statfs uses (blocks of `bsize` bytes). */
export interface StatFsFigures {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/**
 * Where node figures come from: /proc text and statfs. Injected so the summary can be assembled
 * in tests without a kernel, and so a test can point it at a fake /proc.
 */
export interface HostSources {
  /** Reads a file under the proc root, e.g. readProc('meminfo'). */
  readProc(relativePath: string): Promise<string>;
  /** statfs(2) of the filesystem holding `path`; rejects with the file system's error (e.g. ENOENT). */
  statfs(path: string): Promise<StatFsFigures>;
  /**
   * Reads a file under the cgroup mount root: readCgroupRoot('memory.stat') on v2, or
   * readCgroupRoot('memory/memory.stat') for the v1 memory hierarchy's root; it rejects where the
   * file is not there (a v1 host has no memory.stat at the mount root). Absent: never read.
   */
  readCgroupRoot?(file: string): Promise<string>;
}

/** The real host: files under `procRoot` (default /proc) and `cgroupRoot`, and Node's fs.statfs. */
export function systemHostSources(procRoot = '/proc', cgroupRoot = '/sys/fs/cgroup'): HostSources {
  return {
    readProc: (relativePath) => readPseudoFile(`${procRoot}/${relativePath}`),
    readCgroupRoot: (file) => readPseudoFile(`${cgroupRoot}/${file}`),
    statfs: async (path) => {
      const s = await statfs(path);
      return {
        bsize: Number(s.bsize),
        blocks: Number(s.blocks),
        bfree: Number(s.bfree),
        bavail: Number(s.bavail),
        files: Number(s.files),
        ffree: Number(s.ffree),
      };
    },
  };
}
