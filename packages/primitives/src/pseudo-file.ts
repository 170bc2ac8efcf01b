import { readFileSync } from 'node:fs';

/**
 * The text of a kernel pseudo-file (procfs, cgroupfs, sysfs), read in one go; a failure rejects
 * with the file system's error (ENOENT, EOPNOTSUPP…), as fs.promises.readFile would.
 *
 * Why not fs.promises.readFile: these files report a size of 0, so Node gives each read a fresh
 * 64 KiB buffer and five trips through the thread pool (open, fstat, two reads, close). A kubelet
 * reads a dozen of them every 10 s; under load the buffers outlive the young generation and wait,
 * dead, for a full collection (3.5 MiB a minute in the soak). The kernel makes the text in memory
 * and never waits on a disk, so a synchronous read holds the loop for microseconds, and Node
 * (22 on) decodes it in C++ with no JavaScript buffer at all. Not for regular files.
 */
export async function readPseudoFile(path: string): Promise<string> {
  return readFileSync(path, 'utf8');
}
