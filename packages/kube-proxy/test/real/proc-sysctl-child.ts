/**
 * Run by proc-sysctl-layer.test.ts (bundled) inside a throwaway network namespace: applies the
 * writes of argv[2] (JSON [key, value] pairs) through procSysctlLayer, then reads the keys of
 * argv[3] (JSON), and prints one JSON line: the values read, or the error the writes raised.
 */
import { procSysctlLayer, SysctlWriteError } from '../../src/runtime/index';

async function main(): Promise<void> {
  const writes = JSON.parse(process.argv[2] ?? '[]') as [string, string][];
  const reads = JSON.parse(process.argv[3] ?? '[]') as string[];
  const layer = procSysctlLayer();
  let error: Record<string, unknown> | undefined;
  try {
    await layer.set(writes);
  } catch (e) {
    if (!(e instanceof SysctlWriteError)) throw e;
    error = { name: e.name, code: e.code, errno: e.errno, key: e.key, value: e.value, message: e.message };
  }
  const values = Object.fromEntries(await layer.get(reads));
  process.stdout.write(`${JSON.stringify({ values, error })}\n`);
}

await main();
