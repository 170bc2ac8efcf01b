import { readFileSync } from 'node:fs';
import { kubeletConfigurationFieldSupport } from '@nodeagent/kubelet/config';
import { describe, expect, it } from 'vitest';

// The README's list of fields warned about at start is the field-support table's unsupported
// fields: when a field becomes applied (or is found to do nothing upstream), the list follows.
describe('README: fields warned about at start', () => {
  it('names exactly the fields kubeletConfigurationFieldSupport marks unsupported', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf("Warned when set away from upstream's default");
    expect(start).toBeGreaterThan(0);
    const paragraph = readme.slice(start, readme.indexOf('\n\n', start));
    const named = [...paragraph.matchAll(/`([a-zA-Z]+)`/g)]
      .map((m) => m[1] as string)
      .filter((name) => Object.hasOwn(kubeletConfigurationFieldSupport, name));
    const unsupported = Object.entries(kubeletConfigurationFieldSupport)
      .filter(([, support]) => support.status === 'unsupported')
      .map(([field]) => field);
    expect([...new Set(named)].sort()).toEqual(unsupported.sort());
  });
});
