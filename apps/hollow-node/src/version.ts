import { appVersion } from '@nodeagent/primitives';

/** --version and the user agent's version; its package.json is one directory above this module (CJS or ESM). */
export const { packageVersion, versionText } = appVersion(
  typeof __dirname === 'string' ? __dirname : import.meta.url,
);
