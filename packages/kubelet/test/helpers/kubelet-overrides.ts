import type { KubeletOptions } from '../../src/kubelet';

/** Options to change for one test's Kubelet: each group's fields given replace the harness's, the rest stay. */
export type KubeletOverrides = Omit<Partial<KubeletOptions>, 'node'> & {
  node?: Partial<KubeletOptions['node']>;
};

/** `base` with `overrides` on top, group by group (node, api, images, probes, pacing). */
export function withOverrides(base: KubeletOptions, overrides: KubeletOverrides = {}): KubeletOptions {
  return {
    ...base,
    ...overrides,
    node: { ...base.node, ...overrides.node },
    api: { ...base.api, ...overrides.api },
    images: { ...base.images, ...overrides.images },
    probes: { ...base.probes, ...overrides.probes },
    pacing: { ...base.pacing, ...overrides.pacing },
  };
}
