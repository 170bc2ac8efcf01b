import { execFileSync, spawnSync } from 'node:child_process';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { renderScript } from '@nodeagent/netfilter';
import { snapshotFromObjects } from '../src/index';
import { NftablesRuleset } from '../src/nftables/nftables-ruleset';
import { ProxyState } from '../src/model/proxy-snapshot';
const ns = `na-nftbench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
execFileSync('ip', ['netns', 'add', ns]);
const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
function sliceFor(i: number, g: number): V1EndpointSlice {
  const base = (10 << 24) + (128 << 16) + i * 16;
  return { metadata: { name: `svc-${i}-x`, namespace: 'bench', labels: { 'kubernetes.io/service-name': `svc-${i}` } }, addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: 10 }, (_, e) => ({ addresses: [dotted(base + e + (g===1 && e===9 ? 3 : 0))], conditions: { ready: true }, nodeName: `node-${e}` })) };
}
function nft(script: string, args: string[] = []) {
  const t = performance.now();
  const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', ...args, '-f', '-'], { input: script, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(r.stderr.toString().slice(0, 1500));
  return performance.now() - t;
}
try {
  for (const n of (process.env.SIZES ?? '1000,10000').split(',').map(Number)) {
    const state = new ProxyState('IPv4', 'node-0');
    for (let i = 0; i < n; i++) {
      state.onService(undefined, { metadata: { name: `svc-${i}`, namespace: 'bench' }, spec: { type: i % 3 === 0 ? 'NodePort' : 'ClusterIP', clusterIP: dotted((10 << 24) + (96 << 16) + i), ports: [{ name: 'http', port: 80, protocol: 'TCP', ...(i % 3 === 0 ? { nodePort: 30000 + (i % 2000) } : {}) }] } });
      state.onEndpointSlice(sliceFor(i, 0), false);
    }
    let t = performance.now();
    const rs = new NftablesRuleset('IPv4', { localDetector: { ifLocal: 'ip saddr 10.128.0.0/9', ifNotLocal: 'ip saddr != 10.128.0.0/9' } });
    rs.update(state.snapshot());
    const script = renderScript('ip', 'kube-proxy', rs.fullTransaction(), { emulateDestroy: false });
    console.log(n, 'build ms', (performance.now() - t).toFixed(0), 'script KB', (script.length / 1024).toFixed(0));
    console.log(n, 'full nft -f ms', nft(script).toFixed(0));
    rs.commit();
    for (let k = 0; k < 5; k++) {
      state.onEndpointSlice(sliceFor(k * 3 + 1, 1), false);
      t = performance.now();
      rs.update(state.snapshot());
      const ds = renderScript('ip', 'kube-proxy', rs.diffTransaction()!, { emulateDestroy: false });
      const b = performance.now() - t;
      if (k === 0) console.log(ds);
      console.log(n, 'diff build ms', b.toFixed(1), 'apply ms', nft(ds).toFixed(0));
      rs.commit();
    }
    nft('delete table ip kube-proxy\n');
  }
} finally { execFileSync('ip', ['netns', 'del', ns]); }
