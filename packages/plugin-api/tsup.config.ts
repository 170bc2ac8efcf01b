import { libraryBuild } from '../../tools/build/tsup-preset';

/** Entry name (dist/<name>.js, package subpath `./<name>`) -> source. */
const subpaths = {
  deviceplugin: 'src/entries/deviceplugin.ts',
  podresources: 'src/entries/podresources.ts',
  codec: 'src/entries/codec.ts',
};

// Shared chunks: the message types and PluginApiError reached through two entry points must be
// one of each, or a codec is made twice and `instanceof` fails across subpaths.
export default libraryBuild({ entry: { index: 'src/index.ts', ...subpaths }, splitting: true });
