/** Upstream plugin directory names under pods/<uid>/volumes/ (a plugin's name with `/` escaped as `~`). */
export const volumePluginDirs = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
  nfs: 'kubernetes.io~nfs',
  local: 'kubernetes.io~local-volume',
} as const;
