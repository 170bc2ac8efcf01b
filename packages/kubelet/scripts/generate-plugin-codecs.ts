// Regenerate src/devicemanager/generated/*.ts from the vendored device plugin and pod-resources
// .proto texts:
//   npx tsx packages/kubelet/scripts/generate-plugin-codecs.ts
// With --check it writes nothing and exits 1 when the committed files differ from what the
// installed protobufjs generates (test/plugin-api-codecs.test.ts runs it so).
// The codecs are written out as plain code with @nodeagent/csi-client's generator, so the kubelet
// carries protobufjs's minimal runtime only and builds no reflection at start.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { generatedModules } from '../../csi-client/scripts/generate-codecs';
import { devicePluginV1beta1Proto } from '../src/devicemanager/deviceplugin-api';
import { podResourcesV1Proto } from '../src/podresources/podresources-api';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'devicemanager', 'generated');
const roots = [devicePluginV1beta1Proto, podResourcesV1Proto].map((text) => {
  const root = protobuf.parse(text).root;
  root.resolveAll();
  return root;
});
const { codecs, methods } = generatedModules(roots, '@nodeagent/csi-client');
const files = { 'codec-functions.ts': codecs, 'service-methods.ts': methods };

if (process.argv.includes('--check')) {
  const stale = Object.entries(files).filter(
    ([name, text]) => readFileSync(join(dir, name), 'utf8') !== text,
  );
  for (const [name] of stale)
    console.error(`src/devicemanager/generated/${name} is stale: run scripts/generate-plugin-codecs.ts`);
  process.exit(stale.length === 0 ? 0 : 1);
}
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
