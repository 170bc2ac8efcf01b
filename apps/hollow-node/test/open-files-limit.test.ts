import { describe, expect, it } from 'vitest';
import {
  OPEN_FILES_PER_NODE,
  openFilesSoftLimit,
  openFilesWarning,
  softOpenFilesLimit,
} from '../src/open-files-limit';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63704                63704                processes
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
`;

describe('the open files a run of hollow nodes needs', () => {
  it('reads the soft limit from /proc/self/limits, and nothing from unlimited or missing text', () => {
    expect(softOpenFilesLimit(LIMITS)).toBe(20000);
    expect(
      softOpenFilesLimit(LIMITS.replace('20000                20000', 'unlimited            unlimited')),
    ).toBe(undefined);
    expect(softOpenFilesLimit(undefined)).toBe(undefined);
    expect(openFilesSoftLimit()).toBeGreaterThan(0); // this process's own
  });

  it('warns, naming the numbers and how to raise the limit, only when the nodes may need more', () => {
    expect(openFilesWarning(100, 20000)).toBeUndefined();
    expect(openFilesWarning(800, 800 * OPEN_FILES_PER_NODE)).toBeUndefined();
    expect(openFilesWarning(1000, 20000)).toBe(
      '--nodes 1000 may need up to 25000 open files and the soft limit is 20000: raise it (ulimit -n 25000, ' +
        'or prlimit --nofile=25000:25000 -- nodeagent-hollow-node ...) or start fewer nodes, else pods fail ' +
        'with EMFILE during start-up bursts',
    );
    expect(openFilesWarning(1000, undefined)).toBeUndefined();
  });
});
