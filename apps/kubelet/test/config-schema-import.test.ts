import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// @nodeagent/kubelet/config-schema exports kubeletConfigurationSchema, a zod schema built when the
// module loads. The executable bundles every module it reaches and keeps their module-level values
// for its lifetime (~1.5 MiB of V8 heap for that schema), while parseKubeletConfiguration builds
// its own on demand and lets it go. So the binary takes what it needs of the configuration from
// /config, and nothing in the kubelet's sources loads the schema module.
const repo = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(repo, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.includes('testing'))
    .map((file) => join(dir, file));
}

describe('the kubelet executable does not keep the configuration schema alive', () => {
  it('imports nothing from @nodeagent/kubelet/config-schema', () => {
    const importing = sources('apps/kubelet/src').filter((file) =>
      readFileSync(join(repo, file), 'utf8').includes("from '@nodeagent/kubelet/config-schema'"),
    );
    expect(importing).toEqual([]);
  });

  it("only the /config-schema entry point re-exports kubeletConfigurationSchema's module", () => {
    const importing = sources('packages/kubelet/src').filter((file) =>
      /from '[^']*kubelet-configuration-schema'/.test(readFileSync(join(repo, file), 'utf8')),
    );
    expect(importing).toEqual([join('packages/kubelet/src', 'entries', 'config-schema.ts')]);
  });
});
