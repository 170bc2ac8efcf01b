import { describe, expect, it } from 'vitest';
import { memoryQoSKernelWarning } from '../src/startup-checks';

describe('MemoryQoS kernel warning at start (upstream v1.36: memory.high may livelock before Linux 5.9)', () => {
  it('warns with the gate on an older kernel, naming the release', () => {
    expect(memoryQoSKernelWarning(true, '5.4.0-150-generic')).toContain('5.4.0-150-generic');
    expect(memoryQoSKernelWarning(true, '5.4.0-150-generic')).toContain('5.9');
  });

  it('says nothing with the gate off or on 5.9 and later', () => {
    expect(memoryQoSKernelWarning(false, '5.4.0')).toBeUndefined();
    expect(memoryQoSKernelWarning(true, '5.9.0')).toBeUndefined();
    expect(memoryQoSKernelWarning(true, '6.18.1+deb14-amd64')).toBeUndefined();
  });
});
