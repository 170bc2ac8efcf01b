// Regenerate src/generated/codec-functions.ts and src/generated/service-methods.ts (after
// scripts/generate.ts, from its descriptors):
//   npx tsx packages/csi-client/scripts/generate-codecs.ts
// The CSI codecs written out as plain code with @nodeagent/plugin-api's generator (the same as
// the kubelet's other node-plugin APIs), so a node agent carries protobufjs's minimal runtime only
// and builds no reflection at start. test/codec-functions.test.ts fails when the files drift.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedModules as pluginApiModules } from '../../plugin-api/scripts/generate-codecs';
import { csiV1Root } from '../src/proto-roots';

/** The text of both generated modules from the CSI spec's descriptor. */
export function generatedModules(): { codecs: string; methods: string } {
  return pluginApiModules([csiV1Root()], '@nodeagent/plugin-api/codec');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'generated');
  const { codecs, methods } = generatedModules();
  writeFileSync(join(dir, 'codec-functions.ts'), codecs);
  writeFileSync(join(dir, 'service-methods.ts'), methods);
}
