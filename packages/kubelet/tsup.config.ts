import { libraryBuild } from '../../tools/build/tsup-preset';

/** Entry name (dist/<name>.js, package subpath `./<name>`) -> source. */
const subpaths = {
  admission: 'src/entries/admission.ts',
  api: 'src/entries/api.ts',
  certificates: 'src/entries/certificates.ts',
  cgroups: 'src/entries/cgroups.ts',
  config: 'src/entries/config.ts',
  'config-schema': 'src/entries/config-schema.ts',
  cri: 'src/entries/cri.ts',
  errors: 'src/entries/errors.ts',
  eviction: 'src/entries/eviction.ts',
  images: 'src/entries/images.ts',
  logs: 'src/entries/logs.ts',
  metrics: 'src/entries/metrics.ts',
  pod: 'src/entries/pod.ts',
  runtime: 'src/entries/runtime.ts',
  server: 'src/entries/server.ts',
  sources: 'src/entries/sources.ts',
  stats: 'src/entries/stats.ts',
  volumes: 'src/entries/volumes.ts',
  testing: 'src/entries/testing.ts',
};

// Shared chunks: a class reached through two entry points (an error thrown under /pod, caught
// with the root's export) must be one class, or `instanceof` fails across subpaths.
export default libraryBuild({ entry: { index: 'src/index.ts', ...subpaths }, splitting: true });
