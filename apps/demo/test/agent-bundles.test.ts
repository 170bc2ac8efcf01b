import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prebuiltAgentEntries } from '../src/agent-bundles';
import { AGENT_BUNDLES_ENV, containerdToolModule } from '../src/agent-bundles-dir';

describe('prebuiltAgentEntries (NODEAGENT_DEMO_AGENT_BUNDLES)', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'na-demo-bundles-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is undefined when the variable is unset: the run bundles its own agents', () => {
    expect(prebuiltAgentEntries({})).toBeUndefined();
  });

  it('names the variable, the directory and the missing bundle', () => {
    writeFileSync(join(dir, 'kubelet.mjs'), '');
    expect(() => prebuiltAgentEntries({ [AGENT_BUNDLES_ENV]: dir })).toThrow(
      `${AGENT_BUNDLES_ENV}: has no ${join(dir, 'kube-proxy.mjs')}`,
    );
  });

  it('runs each agent from its bundle in the directory', () => {
    for (const f of ['kubelet.mjs', 'kube-proxy.mjs', 'netns-relay.mjs']) writeFileSync(join(dir, f), '');
    expect(prebuiltAgentEntries({ [AGENT_BUNDLES_ENV]: dir })).toEqual({
      kubelet: [join(dir, 'kubelet.mjs')],
      kubeProxy: [join(dir, 'kube-proxy.mjs')],
      relays: [join(dir, 'netns-relay.mjs')],
    });
  });

  it('loads tools/containerd from its bundle in the directory, else from its source', () => {
    expect(containerdToolModule({})).toMatch(/\/tools\/containerd\/containerd\.ts$/);
    expect(containerdToolModule({ [AGENT_BUNDLES_ENV]: dir })).toMatch(
      /\/tools\/containerd\/containerd\.ts$/,
    );
    writeFileSync(join(dir, 'containerd.mjs'), '');
    expect(containerdToolModule({ [AGENT_BUNDLES_ENV]: dir })).toBe(join(dir, 'containerd.mjs'));
  });
});
