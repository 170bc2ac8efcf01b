import {
  goArch,
  KUBERNETES_VERSION,
  type VersionRuntime,
  packageVersion as versionBeside,
  versionText as versionLine,
} from '@nodeagent/primitives';

export { goArch, KUBERNETES_VERSION };

/** This module's place (the app's package.json is one directory up), under CJS and ESM alike. */
const here = typeof __dirname === 'string' ? __dirname : import.meta.url;

/** This app's version, from its package.json (or stamped into a single executable). */
export const packageVersion = (): string => versionBeside(here);

/** What --version prints; see @nodeagent/primitives' versionText. */
export const versionText = (name: string, runtime?: VersionRuntime): string =>
  versionLine(name, here, runtime);
