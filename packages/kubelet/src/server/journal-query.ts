import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { openContained } from './contained-file';
import { formatDateLayout } from './go-rfc3339';
import { goSliceText, hasOptions, type NodeLogQuery } from './node-log-query';

// How upstream v1.36's kubelet answers a validated service query on Linux
// (kubelet_server_journal.go Copy/copyForBoot, kubelet_server_journal_linux.go getLoggingCmd and
// checkForNativeLogger): each service journald knows is read with one journalctl run; the others
// are looked for as files under the log directory. Everything, errors included, goes into the
// 200 body, as upstream writes it after the status.

/** Where journalctl is looked for and how long a query may run. */
export interface JournalQueryOptions {
  /** The directory the file heuristics read (upstream's nodeLogDir, /var/log/). */
  dir: string;
  /** The PATH journalctl is looked up in; the kubelet's own when undefined. */
  path?: string;
  /** Aborts the runs and the file copy: upstream's 30 s deadline for the whole query. */
  signal: AbortSignal;
}

/** A journalctl run that would dereference upstream's nil SinceTime (the handler panics). */
export class NilSinceTimePanic extends Error {}

/**
 * getLoggingCmd's journalctl arguments. Upstream formats `--until` from the *since* time (a slip
 * in kubelet_server_journal_linux.go kept here): untilTime alone makes its handler panic.
 */
export function journalctlArgs(q: NodeLogQuery, services: readonly string[]): string[] {
  const args = ['--utc', '--no-pager', '--output=short-precise'];
  if (q.sinceTime) args.push(`--since=${formatDateLayout(q.sinceTime)}`);
  if (q.untilTime) {
    if (!q.sinceTime)
      throw new NilSinceTimePanic('runtime error: invalid memory address or nil pointer dereference');
    args.push(`--until=${formatDateLayout(q.sinceTime)}`);
  }
  if (q.tailLines !== undefined) args.push('--pager-end', `--lines=${q.tailLines}`);
  for (const service of services) if (service !== '') args.push(`--unit=${service}`);
  if (q.pattern !== '') args.push(`--grep=${q.pattern}`);
  if (q.boot !== undefined) args.push('--boot', String(q.boot));
  return args;
}

/** How a journalctl run ended: its exit code, or that it could not start (not on PATH). */
type RunEnd = { exitCode: number | null } | { startError: Error };

/** Runs journalctl with `args`, its stdout and stderr both into `out` when given, else kept. */
function runJournalctl(args: string[], options: JournalQueryOptions, out?: Writable) {
  return new Promise<{ end: RunEnd; output: string }>((resolve) => {
    const env = options.path === undefined ? process.env : { ...process.env, PATH: options.path };
    const child = spawn('journalctl', args, {
      env,
      signal: options.signal,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const kept: Buffer[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      if (out) stream.pipe(out, { end: false });
      else stream.on('data', (chunk: Buffer) => kept.push(chunk));
    }
    let started = true;
    child.on('error', (error) => {
      // ENOENT: not found; an abort after the start is the deadline killing it (an exit error).
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || child.pid === undefined) {
        started = false;
        resolve({ end: { startError: error }, output: '' });
      }
    });
    child.on('close', (exitCode) => {
      if (started) resolve({ end: { exitCode }, output: Buffer.concat(kept).toString('utf8') });
    });
  });
}

/** checkForNativeLogger: journald lists `<service>.service` among its _SYSTEMD_UNIT values. */
async function logsToJournal(service: string, options: JournalQueryOptions): Promise<boolean> {
  const { end, output } = await runJournalctl(['--field', '_SYSTEMD_UNIT'], options);
  if ('startError' in end || end.exitCode !== 0) return false;
  return output.includes(`${service}.service`);
}

/** Writes `text` and waits for the writer to take it. */
function write(out: Writable, text: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => out.write(text, (error) => (error ? reject(error) : resolve())));
}

/** Go's text for a file error in heuristicsCopyFileLogs (`open <path>: permission denied`). */
function goFileError(path: string, error: NodeJS.ErrnoException): string {
  const texts: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ELOOP: 'too many levels of symbolic links',
  };
  return `open ${path}: ${texts[error.code ?? ''] ?? error.message}`;
}

/** heuristicsCopyFileLog: copies one candidate; `missing` when it is absent or a directory. */
async function copyCandidate(dir: string, name: string, out: Writable, signal: AbortSignal) {
  const path = join(dir, name);
  const opened = await openContained(dir, path, true);
  // A symlink leading out is what securejoin.OpenInRoot resolves inside the root: not there.
  if ('refused' in opened)
    return opened.refused === 'outside' || ['ENOENT', 'ENOTDIR'].includes(opened.error.code ?? '')
      ? 'missing'
      : goFileError(path, opened.error);
  try {
    if ((await opened.handle.stat()).isDirectory()) return 'missing';
    for await (const chunk of opened.handle.createReadStream({ autoClose: false, signal }))
      await write(out, chunk);
    return 'copied';
  } catch (error) {
    return signal.aborted ? 'copied' : goFileError(path, error as NodeJS.ErrnoException);
  } finally {
    await opened.handle.close();
  }
}

/** heuristicsCopyFileLogs: `<s>`, `<s>.log`, `<s>/<s>.log` under the log directory, the first found. */
async function copyFileLogs(service: string, out: Writable, options: JournalQueryOptions) {
  for (const name of [service, `${service}.log`, `${service}/${service}.log`]) {
    const outcome = await copyCandidate(options.dir, name, out, options.signal);
    if (outcome === 'copied') return;
    if (outcome !== 'missing') return write(out, `\nerror getting log for ${service}: ${outcome}\n`);
  }
  await write(out, `\nlog not found for ${service}\n`);
}

/**
 * copyForBoot: the services journald knows through one journalctl run (its failure to start
 * reported as `error: journal output not available` unless an earlier boot was asked for), then
 * the others as files, which no option may be combined with.
 */
export async function copyNodeLogs(
  q: NodeLogQuery,
  out: Writable,
  options: JournalQueryOptions,
): Promise<void> {
  const native: string[] = [];
  const files: string[] = [];
  for (const service of q.services) ((await logsToJournal(service, options)) ? native : files).push(service);
  if (native.length > 0) {
    const { end } = await runJournalctl(journalctlArgs(q, native), options, out);
    if ('startError' in end && (q.boot ?? 0) === 0)
      await write(out, '\nerror: journal output not available\n');
  }
  if (files.length > 0 && hasOptions(q))
    return write(
      out,
      `\noptions present and query resolved to log files for ${goSliceText(files)}\ntry without specifying options\n`,
    );
  if (files.length > 0 && options.signal.aborted)
    return write(out, '\ncontext error: context deadline exceeded\n');
  for (const service of files) await copyFileLogs(service, out, options);
}
