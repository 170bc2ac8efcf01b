import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A self-signed serving certificate for the kubelet server when no --tls-cert-file is given
 * (upstream writes one to <root-dir>/pki). Made with openssl(1): Node cannot create X.509.
 */
export async function selfSignedCertificate(
  hostname: string,
  ips: string[],
): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'na-kubelet-pki-'));
  try {
    const san = [`DNS:${hostname}`, ...ips.map((ip) => `IP:${ip}`)].join(',');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '365',
      '-subj',
      `/CN=${hostname}@${Math.floor(Date.now() / 1000)}`,
      '-addext',
      `subjectAltName=${san}`,
      '-keyout',
      join(dir, 'kubelet.key'),
      '-out',
      join(dir, 'kubelet.crt'),
    ]);
    return {
      cert: await readFile(join(dir, 'kubelet.crt'), 'utf8'),
      key: await readFile(join(dir, 'kubelet.key'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
