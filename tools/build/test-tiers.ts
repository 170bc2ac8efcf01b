/**
 * The tiers of `npm test` (the tier table of docs/testing/README.md), told apart by where a test
 * file lives: what the per-tier times are summed over. One definition, used by the times reporter.
 */
export type TestTier =
  | 'unit and API-server'
  | 'kernel'
  | 'containerd'
  | 'micro-VM'
  | 'node in a box'
  | 'shipping'
  | 'tools and CI checks';

/** In the order docs/testing/README.md's tier table lists them. */
export const TEST_TIERS: readonly TestTier[] = [
  'unit and API-server',
  'kernel',
  'containerd',
  'micro-VM',
  'node in a box',
  'shipping',
  'tools and CI checks',
];

/** Checked in order: the first pattern that matches a repository-relative path names its tier. */
const TIER_PATTERNS: readonly [RegExp, TestTier][] = [
  [/^apps\/demo\/test\/real\//, 'node in a box'],
  [/^packages\/ipvs\/test\/real\//, 'micro-VM'],
  [/^packages\/kube-proxy\/test\/real\/ipvs-(packets|daemon)\.test\.ts$/, 'micro-VM'],
  [/^packages\/kubelet\/test\/real\/vm\//, 'micro-VM'],
  [/^tools\/vm\//, 'micro-VM'],
  [/^(packages\/(netfilter|kube-proxy)|apps\/kube-proxy)\/test\/real\//, 'kernel'],
  [/^(packages\/(cri-client|kubelet)|apps\/kubelet)\/test\/real\//, 'containerd'],
  [/^tools\/(containerd|images|registry)\//, 'containerd'],
  [/^tools\/sea\//, 'shipping'],
  [/^tools\//, 'tools and CI checks'],
];

/** The tier of a test file, from its path relative to the repository root. */
export function testTier(relativePath: string): TestTier {
  for (const [pattern, tier] of TIER_PATTERNS) if (pattern.test(relativePath)) return tier;
  return 'unit and API-server';
}
