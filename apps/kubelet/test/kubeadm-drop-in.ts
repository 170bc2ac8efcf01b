/**
 * The kubelet's argv as systemd builds it from kubeadm's drop-in: Environment= lines and the
 * EnvironmentFile's KEY="…" lines, the last ExecStart's $VARs expanded and split on spaces;
 * extraArgs stands for KUBELET_EXTRA_ARGS from /etc/default/kubelet.
 */
export function kubeadmArgv(dropIn: string, envFile: string, extraArgs = ''): string[] {
  const env: Record<string, string> = { KUBELET_EXTRA_ARGS: extraArgs };
  for (const match of dropIn.matchAll(/^Environment="([A-Z_]+)=(.*)"$/gm)) env[match[1]!] = match[2]!;
  for (const match of envFile.matchAll(/^([A-Z_]+)="(.*)"$/gm)) env[match[1]!] = match[2]!;
  const execStart = [...dropIn.matchAll(/^ExecStart=(.+)$/gm)].at(-1)![1]!;
  const [, ...words] = execStart.split(/\s+/);
  return words
    .map((word) => word.replace(/^\$([A-Z_]+)$/, (_, name: string) => env[name] ?? ''))
    .join(' ')
    .split(/\s+/)
    .filter((word) => word !== '');
}
