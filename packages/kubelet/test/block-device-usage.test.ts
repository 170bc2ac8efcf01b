import { describe, expect, it } from 'vitest';
import { blockDeviceUsage } from '../src/volumes/block-device-usage';

describe('blockDeviceUsage (upstream MetricsBlock)', () => {
  it('measures only block devices: a file or a character device is refused by name', async () => {
    await expect(blockDeviceUsage(import.meta.filename)).rejects.toThrow(
      `${import.meta.filename} is not a block device`,
    );
    await expect(blockDeviceUsage('/dev/null')).rejects.toThrow('/dev/null is not a block device');
    await expect(blockDeviceUsage('/nonexistent/device/node')).rejects.toThrow(/ENOENT/);
  });
});
