import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type Clock, parseDuration, systemClock } from '@nodeagent/primitives';
import type { CredentialProviderSpec } from './credential-provider-config';
import { CredentialProviderExecError } from './credential-provider-errors';
import type { CredentialProviderMetrics } from './credential-provider-metrics';
import type { DockerConfig } from './docker-keyring';

/** Upstream's catch-all limit on one plugin run (not configurable upstream either). */
export const pluginExecTimeoutMs = 60_000;

export type PluginCacheKeyType = 'Image' | 'Registry' | 'Global';

/** A CredentialProviderResponse as the kubelet reads it. */
export interface CredentialProviderResponse {
  cacheKeyType: string;
  /** Milliseconds; undefined when the plugin sent none (the provider's default applies). */
  cacheDurationMs?: number;
  auth: DockerConfig;
}

export interface PluginRequest {
  image: string;
  serviceAccountToken?: string;
  serviceAccountAnnotations?: Record<string, string>;
}

const responseFields = ['kind', 'apiVersion', 'cacheKeyType', 'cacheDuration', 'auth'];

/**
 * Upstream execPlugin: runs `<binDir>/<name> args...` with the kubelet's environment plus the
 * provider's `env` (the provider's win), a CredentialProviderRequest on stdin, and reads the
 * CredentialProviderResponse from stdout. Killed after `timeoutMs`. Every run is timed and every
 * failed run counted (kubelet_credential_provider_plugin_duration / _errors_total).
 */
export class ExecPlugin {
  constructor(
    private readonly provider: CredentialProviderSpec,
    private readonly binDir: string,
    private readonly metrics?: CredentialProviderMetrics,
    private readonly timeoutMs = pluginExecTimeoutMs,
    /** The clock the exec timeout runs on. */
    private readonly clock: Clock = systemClock,
  ) {}

  async run(request: PluginRequest): Promise<CredentialProviderResponse> {
    const { name, apiVersion } = this.provider;
    const fail = (reason: string) => new CredentialProviderExecError(name, request.image, reason);
    const body: Record<string, unknown> = {
      kind: 'CredentialProviderRequest',
      apiVersion,
      image: request.image,
    };
    if (request.serviceAccountToken) body.serviceAccountToken = request.serviceAccountToken;
    if (request.serviceAccountAnnotations && Object.keys(request.serviceAccountAnnotations).length > 0)
      body.serviceAccountAnnotations = request.serviceAccountAnnotations;
    const { stdout, stderr, error } = await this.exec(`${JSON.stringify(body)}\n`);
    if (error)
      throw fail(
        `error execing credential provider plugin ${name} for image ${request.image}: ${error}: ${stderr}`,
      );
    return parseResponse(stdout, apiVersion, fail);
  }

  private exec(stdin: string): Promise<{ stdout: string; stderr: string; error?: string }> {
    const path = join(this.binDir, this.provider.name);
    const env = { ...process.env };
    for (const v of this.provider.env) env[v.name] = v.value;
    const started = performance.now();
    const label = { plugin_name: this.provider.name };
    return new Promise((resolve) => {
      const child = spawn(path, this.provider.args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let spawnError: string | undefined;
      const timer = this.clock.setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, this.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      // A plugin that exits without reading its stdin is not an error of ours.
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
      child.on('error', (e: NodeJS.ErrnoException) => {
        spawnError = `fork/exec ${path}: ${e.code === 'EACCES' ? 'permission denied' : e.code === 'ENOENT' ? 'no such file or directory' : e.message}`;
      });
      child.on('close', (code, signal) => {
        this.clock.clearTimeout(timer);
        this.metrics?.duration.observe(label, (performance.now() - started) / 1000);
        let error: string | undefined;
        if (timedOut) error = 'context deadline exceeded';
        else if (spawnError) error = spawnError;
        else if (signal) error = `signal: ${signal === 'SIGKILL' ? 'killed' : signal}`;
        else if (code !== 0) error = `exit status ${code}`;
        if (error) this.metrics?.errors.inc(label);
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          error,
        });
      });
    });
  }
}

/** Upstream's response checks: its apiVersion first, then a strict decode that never echoes the body. */
function parseResponse(
  stdout: string,
  apiVersion: string,
  fail: (reason: string) => CredentialProviderExecError,
): CredentialProviderResponse {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch (error) {
    throw fail(
      `error reading GVK from response: couldn't get version/kind; json parse error: ${(error as Error).message}`,
    );
  }
  const doc = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const actual = typeof doc.apiVersion === 'string' ? doc.apiVersion : '';
  if (actual !== apiVersion)
    throw fail(
      `apiVersion from credential plugin response did not match expected apiVersion:${apiVersion}, actual apiVersion:${actual}`,
    );
  const undecodable = () => fail('error decoding credential provider plugin response from stdout');
  if (doc.kind !== 'CredentialProviderResponse') throw undecodable();
  if (Object.keys(doc).some((k) => !responseFields.includes(k))) throw undecodable();
  let cacheDurationMs: number | undefined;
  if (doc.cacheDuration !== undefined && doc.cacheDuration !== null) {
    try {
      cacheDurationMs = parseDuration(String(doc.cacheDuration));
    } catch {
      throw undecodable();
    }
  }
  const auth: DockerConfig = {};
  const entries = doc.auth ?? {};
  if (typeof entries !== 'object' || Array.isArray(entries)) throw undecodable();
  for (const [glob, entry] of Object.entries(entries as Record<string, unknown>)) {
    const e = (entry ?? {}) as Record<string, unknown>;
    if (typeof e !== 'object' || Object.keys(e).some((k) => k !== 'username' && k !== 'password'))
      throw undecodable();
    auth[glob] = { username: String(e.username ?? ''), password: String(e.password ?? '') };
  }
  return { cacheKeyType: String(doc.cacheKeyType ?? ''), cacheDurationMs, auth };
}
