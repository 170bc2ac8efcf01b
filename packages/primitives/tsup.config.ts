import { libraryBuild } from '../../tools/build/tsup-preset';

// The root plus the subpaths /feature-gates, /metric-stability, /component-base-metrics (which alone needs
// prom-client), /klog, /go-text, /event-loop-slices, /free-heap-release, /pseudo-file, /scheduling, /netlink, /certificates and /x509 (which alone need @peculiar/x509: /certificates
// loads it when it makes one), so the root stays tiny.
export default libraryBuild({
  entry: {
    index: 'src/index.ts',
    'feature-gates': 'src/feature-gates/index.ts',
    'metric-stability': 'src/metric-stability.ts',
    'component-base-metrics': 'src/component-base-metrics.ts',
    klog: 'src/klog.ts',
    netlink: 'src/netlink/index.ts',
    certificates: 'src/certificates/index.ts',
    x509: 'src/x509/index.ts',
    'go-text': 'src/go-text/index.ts',
    'event-loop-slices': 'src/event-loop-slices.ts',
    'free-heap-release': 'src/free-heap-release.ts',
    'pseudo-file': 'src/pseudo-file.ts',
    scheduling: 'src/scheduling/index.ts',
  },
});
