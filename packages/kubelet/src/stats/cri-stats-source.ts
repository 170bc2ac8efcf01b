import type { CriClient } from '@nodeagent/cri-client';

/**
 * The CRI calls the summary needs. A CriClient is one; tests pass a plain object with canned
 * responses, so the assembly runs without a runtime.
 */
export type CriStatsSource = Pick<
  CriClient,
  'listPodSandbox' | 'listContainers' | 'listPodSandboxStats' | 'listContainerStats' | 'imageFsInfo'
>;
