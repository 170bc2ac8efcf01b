import { describe, expect, it } from 'vitest';
import { floorRun } from '../bench/startup-floor';

describe("the start-up bench's floor", () => {
  // The bench runs the embedded Node 24; any node runs the same script (this one: the test's own).
  it('makes the two keys, then is read and killed', async () => {
    const run = await floorRun(process.execPath, 0, 1.5);
    expect(run.keysMs).toBeGreaterThan(0);
    // Two RSA-2048 keys cost CPU: the reading is of the floor's process, not of this one.
    expect(run.cpuAtKeysS).toBeGreaterThan(0);
    expect(run.cpuFirst10sS).toBeGreaterThanOrEqual(run.cpuAtKeysS);
    expect(run.load1).toBe(1.5);
  });

  it("names a node that cannot run the floor's script", async () => {
    await expect(floorRun('/bin/false', 0, 0)).rejects.toThrow(/the floor's node exited early \(code 1\)/);
  });
});
