// What `tools/sea/build.mjs` turns into single executables: one entry per reference binary.
import { join } from 'node:path';
import { REPO_ROOT } from './node-runtime.mjs';

/**
 * The Kubernetes release whose API the agents speak. Kept equal to the kubeletVersion that
 * @nodeagent/node-status reports by default, so `--version` and Node.status agree.
 */
export const KUBERNETES_VERSION = 'v1.36.3';

/**
 * @typedef {object} SeaTarget
 * @property {string} name    executable name under dist/bin/
 * @property {string} appDir  workspace app whose package.json carries the version
 * @property {string} entry   CLI entry file bundled into the executable
 * @property {boolean} importEntry  bundle the entry through a static import (tree-shaken) rather
 *   than require() (see build.mjs, entryWrapper)
 * @property {number} [maxSemiSpaceSizeMb]  V8's `--max-semi-space-size` for the executable (MB; build.mjs,
 *   targetExecArgv): the cap on each of the young generation's two semi-spaces
 * @property {boolean} [trainCodeCache]  embed the code cache made after a training start of the
 *   app rather than the top-level one (build.mjs, trainedCodeCache), unless the build says otherwise
 * @property {boolean} [lazyProxyAgents]  client-node's proxy agents loaded at their first use, not
 *   at start (build.mjs, lazyProxyAgents), unless the build says otherwise
 */

/** @returns {SeaTarget[]} */
export function seaTargets() {
  return [
    {
      name: 'nodeagent-kube-proxy',
      appDir: join(REPO_ROOT, 'apps/kube-proxy'),
      entry: join(REPO_ROOT, 'apps/kube-proxy/src/cli.ts'),
      // Imported: drops @kubernetes/client-node's generated models (it only uses KubeConfig);
      // V8 heap at start 17.5 -> 13.7 MiB, settled at 1k Services 32 -> 26 MiB (apps/kube-proxy/bench/rss.bench.ts).
      importEntry: true,
      // 8 MB young-generation semi-spaces, not the kubelet's 2: a 44k-Service start made 135-139
      // scavenges instead of 499-500, GC main-thread time 1.2-1.6 s instead of 2.5-2.7 and its
      // first sync 2.2-3.0 s instead of 3.7-4.6. At 11 Services RSS is the same; at 1k the same
      // 60 s after the sync, up to 7 MiB more right after it, peak 12-22 MiB more (16 MB: no
      // better there). Figures: apps/kube-proxy/bench/scale.bench.ts and rss.bench.ts.
      maxSemiSpaceSizeMb: 8,
      // The top-level code cache, not the trained one: at 5,000 Services × 50 endpoints the
      // trained cache raised the CPU to the first sync 3.62 -> 3.78 s and exec -> first sync
      // 3.2 -> 3.6 s (medians of 12 runs, apps/kube-proxy/bench/scale.bench.ts).
      trainCodeCache: false,
    },
    {
      name: 'nodeagent-kubelet',
      appDir: join(REPO_ROOT, 'apps/kubelet'),
      entry: join(REPO_ROOT, 'apps/kubelet/src/cli.ts'),
      // Required: the imported (scope-hoisted) bundle leaves more malloc memory live from the
      // start (anon RSS idle on containerd 42.5 MiB required, 46.4 MiB imported, although the
      // imported one held 2.5 MiB less V8 heap; apps/kubelet/bench/rss.bench.ts). Without models
      // all the same: build.mjs narrows client-node's generated index.
      importEntry: false,
      // Small young-generation semi-spaces. The soak (docs/performance/kubelet.md), 60 min beside
      // a build with V8's own 16 MB: working set 79 vs 117 MiB (mean), 90 vs 117 at the end, CPU
      // 2.6 vs 2.3 s a minute. Only under heavy overload (load average in the hundreds) did 16 MB
      // hold less (145 vs 165 MiB), as less of the backlog was promoted.
      maxSemiSpaceSizeMb: 2,
      // The code cache made after a training start (build.mjs, trainedCodeCache): on containerd,
      // "kubelet started" 478 -> 421 ms and the main thread's CPU at 9.5 s 0.48 -> 0.38 s
      // (medians of 5 runs, apps/kubelet/bench/startup.bench.ts).
      trainCodeCache: true,
      // client-node's proxy agents (socks-proxy-agent, hpagent) evaluated only for a cluster with
      // a proxy-url (build.mjs, lazyProxyAgents): a few ms of each start (issue #51).
      lazyProxyAgents: true,
    },
  ];
}
