import { libraryBuild } from '../../tools/build/tsup-preset';

/** Entry name (dist/<name>.js, package subpath `./<name>`) -> source. */
const subpaths = {
  admission: 'src/admission/index.ts',
  api: 'src/api/index.ts',
  certificates: 'src/certificates/index.ts',
  cgroups: 'src/cgroups/index.ts',
  config: 'src/config/index.ts',
  cri: 'src/cri/index.ts',
  eviction: 'src/eviction/index.ts',
  images: 'src/images/index.ts',
  logs: 'src/logs/index.ts',
  metrics: 'src/metrics-collectors/index.ts',
  pod: 'src/pod/index.ts',
  runtime: 'src/runtime/index.ts',
  server: 'src/server/index.ts',
  sources: 'src/sources/index.ts',
  stats: 'src/stats/index.ts',
  volumes: 'src/volumes/index.ts',
  testing: 'src/testing/index.ts',
};

// Shared chunks: a class reached through two entry points (an error thrown under /pod, caught
// with the root's export) must be one class, or `instanceof` fails across subpaths.
export default libraryBuild({ entry: { index: 'src/index.ts', ...subpaths }, splitting: true });
