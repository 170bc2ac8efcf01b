import type { IncomingMessage, ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import { getHeapSnapshot } from 'node:v8';

/**
 * `enableProfiling`: upstream serves Go's /debug/pprof/ on the metrics server. A Node process
 * has V8's profilers instead, so the same paths serve their equivalents:
 *
 * - `/debug/pprof/` — an index of what is here;
 * - `/debug/pprof/heap` — a V8 heap snapshot (`.heapsnapshot`, open in Chrome DevTools' Memory tab);
 * - `/debug/pprof/profile?seconds=N` — a CPU profile over N seconds (default 30, as pprof;
 *   `.cpuprofile`, open in DevTools' Performance tab).
 *
 * Returns false for paths it does not serve.
 */
export function serveProfiling(req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/debug/pprof' || url.pathname === '/debug/pprof/') {
    res
      .writeHead(200, { 'Content-Type': 'text/plain' })
      .end(
        'heap     V8 heap snapshot (.heapsnapshot)\nprofile  V8 CPU profile over ?seconds=N (default 30; .cpuprofile)\n',
      );
    return true;
  }
  if (url.pathname === '/debug/pprof/heap') {
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': 'attachment; filename="kube-proxy.heapsnapshot"',
    });
    getHeapSnapshot().pipe(res);
    return true;
  }
  if (url.pathname === '/debug/pprof/profile') {
    const seconds = Number(url.searchParams.get('seconds') ?? '30');
    if (!Number.isFinite(seconds) || seconds <= 0) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('seconds must be a positive number\n');
      return true;
    }
    cpuProfile(seconds * 1000).then(
      (profile) =>
        res
          .writeHead(200, {
            'Content-Type': 'application/json',
            'Content-Disposition': 'attachment; filename="kube-proxy.cpuprofile"',
          })
          .end(JSON.stringify(profile)),
      (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`),
    );
    return true;
  }
  return false;
}

/** Runs V8's sampling CPU profiler for `ms` and returns the profile. */
async function cpuProfile(ms: number): Promise<unknown> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await new Promise((resolve) => setTimeout(resolve, ms));
    const { profile } = await session.post('Profiler.stop');
    return profile;
  } finally {
    session.disconnect();
  }
}
