// Usage: npx tsx tools/sea/build-kube-proxy-image.ts [binary] [outDir]
// Defaults: dist/bin/nodeagent-kube-proxy (run tools/sea/build.mjs first) and dist/images/.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildKubeProxyImage } from './kube-proxy-image';

const repo = join(import.meta.dirname, '..', '..');
const binary = resolve(process.argv[2] ?? join(repo, 'dist', 'bin', 'nodeagent-kube-proxy'));
const outDir = resolve(process.argv[3] ?? join(repo, 'dist', 'images'));
const { version } = JSON.parse(readFileSync(join(repo, 'apps', 'kube-proxy', 'package.json'), 'utf8'));

const image = await buildKubeProxyImage({ binary, tag: version, outDir });
process.stdout.write(
  `${image.name}\n  archive  ${image.archive}\n  manifest ${image.manifestDigest}\n  id       ${image.id}\n`,
);
