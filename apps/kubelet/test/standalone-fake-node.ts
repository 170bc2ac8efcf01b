import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRuntime } from '@nodeagent/cri-client/testing';

/**
 * A temporary dir and a FakeRuntime, for tests that start the binary standalone (no API server)
 * under KubeletConfiguration files they write into the dir.
 */
export interface StandaloneFakeNode {
  dir: string;
  fake: FakeRuntime;
  /**
   * Writes `<dir>/<name>`: failSwapOn false (the test hosts may have swap), podLogsDir
   * (`<dir>/logs` unless given), then `lines`; its path.
   */
  writeConfig(name: string, lines: string[], podLogsDir?: string): Promise<string>;
  /** Stops the runtime and removes the dir. */
  close(): Promise<void>;
}

/** The dir (named after `dirPrefix`, for telling a leftover one's test) and the started runtime. */
export async function standaloneFakeNode(dirPrefix: string): Promise<StandaloneFakeNode> {
  const dir = await mkdtemp(join(tmpdir(), `${dirPrefix}-${process.pid}-`));
  const fake = await FakeRuntime.start().catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    dir,
    fake,
    async writeConfig(name, lines, podLogsDir = join(dir, 'logs')) {
      const path = join(dir, name);
      await writeFile(
        path,
        [
          'apiVersion: kubelet.config.k8s.io/v1beta1',
          'kind: KubeletConfiguration',
          'failSwapOn: false',
          `podLogsDir: ${podLogsDir}`,
          ...lines,
        ].join('\n'),
      );
      return path;
    },
    async close() {
      await fake.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
