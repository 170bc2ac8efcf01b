import { describe, expect, it } from 'vitest';
import { randomPodSubnet } from './containerd';

describe('randomPodSubnet', () => {
  it('is a /24 in 10.128.0.0/9 by default', () => {
    for (let i = 0; i < 50; i++) {
      const m = /^10\.(\d+)\.(\d+)\.0\/24$/.exec(randomPodSubnet());
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThanOrEqual(128);
      expect(Number(m![1])).toBeLessThan(248);
    }
  });

  it('names the network itself at a shorter prefix (the third octet a multiple of the block)', () => {
    for (let i = 0; i < 50; i++) {
      const m = /^10\.\d+\.(\d+)\.0\/22$/.exec(randomPodSubnet(22));
      expect(m).not.toBeNull();
      expect(Number(m![1]) % 4).toBe(0);
    }
  });

  it('refuses a prefix it cannot make', () => {
    expect(() => randomPodSubnet(25)).toThrow(/prefix length 25 is not 16-24/);
  });
});
