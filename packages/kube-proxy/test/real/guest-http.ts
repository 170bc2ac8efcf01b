/**
 * HTTP requests of the micro-VM's IPVS scenarios: from another namespace with busybox wget (under
 * TCG a curl start costs ~2 s, it loads libcurl and its TLS stack; busybox wget ~0.2 s), in the
 * scenario's own namespace in-process.
 */
import { get } from 'node:http';
import type { Netns } from '@nodeagent/testing';
import { guestSpeedFactor } from '../../../../tools/vm/speed';

/**
 * GET `url` from `from`: the body, 'refused', or 'timeout' when nothing answered within `limitMs`
 * (on an idle machine; longer as the VM runs slower), which is how a dropped packet shows. This
 * busybox has no wget timeout option, so the limit is the kill of the command.
 */
export async function httpGet(from: Netns, url: string, limitMs = 2000): Promise<string> {
  const r = await from.exec('busybox', ['wget', '-q', '-O', '-', url], {
    allowFailure: true,
    timeoutMs: limitMs * guestSpeedFactor(),
  });
  if (r.exitCode === 0) return r.stdout.trim();
  if (r.exitCode === null) return 'timeout';
  if (r.stderr.includes('Connection refused')) return 'refused';
  return `error ${r.exitCode}: ${r.stderr.trim().slice(0, 200)}`;
}

/**
 * GET `url` in this process's own namespace, in-process: the status line as the server sent it
 * ("HTTP/1.1 200 OK") and the body.
 */
export function localGet(url: string): Promise<{ statusLine: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ statusLine: `HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}`, body }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000 * guestSpeedFactor(), () => req.destroy(new Error(`GET ${url}: no answer`)));
  });
}
