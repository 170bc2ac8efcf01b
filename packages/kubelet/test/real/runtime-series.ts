/**
 * Which containerd release series a real test runs against, read from the runtime itself (CRI
 * Version), so a test asserts what upstream's kubelet shows on that series: containerd 1.6 and
 * 2.1 answer some calls differently (tools/containerd/README.md lists the differences).
 */
export type ContainerdSeries = '1.6' | '2.1';

export class UnknownContainerdSeriesError extends Error {
  readonly code = 'UNKNOWN_CONTAINERD_SERIES';
  constructor(runtimeName: string, runtimeVersion: string) {
    super(
      `runtime ${JSON.stringify(runtimeName)} version ${JSON.stringify(runtimeVersion)} is not a containerd series these tests know (1.6, 2.1)`,
    );
    this.name = 'UnknownContainerdSeriesError';
  }
}

/** The series from CRI Version's runtimeVersion: '1.6.20~ds1' → 1.6, '2.1.9~ds1' or 'v2.1.9' → 2.1. */
export async function containerdSeries(client: {
  version(): Promise<{ runtimeName: string; runtimeVersion: string }>;
}): Promise<ContainerdSeries> {
  const { runtimeName, runtimeVersion } = await client.version();
  const series = /^v?(\d+\.\d+)\./.exec(runtimeVersion)?.[1];
  if (runtimeName === 'containerd' && (series === '1.6' || series === '2.1')) return series;
  throw new UnknownContainerdSeriesError(runtimeName, runtimeVersion);
}
