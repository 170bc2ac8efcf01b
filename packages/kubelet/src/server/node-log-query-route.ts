import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { constants, createGzip } from 'node:zlib';
import { systemReason } from '@nodeagent/primitives';
import { goAggregateText } from '@nodeagent/primitives/go-text';
import { writeGoHttpError } from './go-net-http';
import { copyNodeLogs, NilSinceTimePanic } from './journal-query';
import { type NodeLogQuery, validateNodeLogQuery } from './node-log-query';
import { secureJoin } from './secure-join';

// The query half of upstream v1.36's /logs/ handler (pkg/kubelet/kubelet.go Run, with
// enableSystemLogQuery and the NodeLogQuery gate): a request with query parameters is parsed
// (400 for a bad value), must not name a path besides /logs/ (406), is validated (406); a
// service query is answered by journalServer, a file query by the file server with the file as
// the path. Upstream's 30 s deadline bounds the journalctl runs and the copy.

/** Upstream's deadline for one query (Copy's context.WithDeadline). */
const queryDeadlineMs = 30_000;

/** Go's text for a failed os.Stat (`stat /var/log/x: no such file or directory`). */
async function statProblem(dir: string, file: string): Promise<string | undefined> {
  // securejoin.SecureJoin(nodeLogDir, file): the name, its symlinks too, kept under the directory.
  let path: string;
  try {
    const joined = await secureJoin(dir, file);
    if ('error' in joined) return joined.error;
    path = joined.path;
  } catch (error) {
    return (error as Error).message;
  }
  try {
    await stat(path);
    return undefined;
  } catch (error) {
    return `stat ${path}: ${systemReason(error)}`;
  }
}

/** The outcome of the query checks: answered already, a file to serve, or not a query. */
export type QueryOutcome = { kind: 'answered' } | { kind: 'file'; path: string } | { kind: 'not-a-query' };

/** Where the query reads from. */
export interface NodeLogQuerySettings {
  dir: string;
  /** The PATH journalctl is looked up in (the kubelet's own when undefined). */
  journalctlPath?: string;
}

/**
 * journalServer.ServeHTTP for a validated service query: text/plain;charset=UTF-8, gzip when
 * Accept-Encoding is exactly `gzip`, the journal and file output streamed as a 200.
 */
async function serveJournal(
  q: NodeLogQuery,
  settings: NodeLogQuerySettings,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), queryDeadlineMs);
  response.on('close', () => controller.abort());
  response.setHeader('Content-Type', 'text/plain;charset=UTF-8');
  let out: Writable = response;
  const gzip = request.headers['accept-encoding'] === 'gzip';
  if (gzip) {
    response.setHeader('Content-Encoding', 'gzip');
    out = createGzip({ level: constants.Z_BEST_SPEED });
    out.pipe(response);
  }
  try {
    await copyNodeLogs(q, out, {
      dir: settings.dir,
      path: settings.journalctlPath,
      signal: controller.signal,
    });
    out.end();
  } catch (error) {
    // Upstream's handler panics (untilTime without sinceTime): net/http drops the connection.
    if (error instanceof NilSinceTimePanic) response.destroy();
    else if (!response.destroyed) out.end();
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * The query checks for `/logs/<rest>` (`rest` as StripPrefix leaves it) with its parsed
 * parameters: a bad query answered 400 or 406, a service query answered from journald and the
 * files, a file query turned into the path the file server serves.
 */
export async function answerNodeLogQuery(
  parsed: { query?: NodeLogQuery; errors: string[] },
  rest: string,
  settings: NodeLogQuerySettings,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<QueryOutcome> {
  if (parsed.errors.length > 0) {
    writeGoHttpError(response, 400, goAggregateText(parsed.errors));
    return { kind: 'answered' };
  }
  const q = parsed.query;
  if (!q) return { kind: 'not-a-query' };
  if (rest !== '/' && rest !== '') {
    writeGoHttpError(response, 406, 'path not allowed in query mode');
    return { kind: 'answered' };
  }
  const problems = await validateNodeLogQuery(q, (file) => statProblem(settings.dir, file));
  if (problems.length > 0) {
    writeGoHttpError(response, 406, goAggregateText(problems));
    return { kind: 'answered' };
  }
  if (q.services.length > 0) {
    await serveJournal(q, settings, request, response);
    return { kind: 'answered' };
  }
  // filepath.ToSlash on Linux leaves a backslash as it is.
  return { kind: 'file', path: q.files[0] as string };
}
