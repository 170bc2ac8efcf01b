import { appVersion, goArch, KUBERNETES_VERSION } from '@nodeagent/primitives';

export { goArch, KUBERNETES_VERSION };

/** --version for this app; its package.json is one directory above this module (CJS or ESM). */
export const { packageVersion, versionText, rawVersionText } = appVersion(
  typeof __dirname === 'string' ? __dirname : import.meta.url,
);
