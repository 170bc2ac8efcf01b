import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A credential provider plugin as a shell script in `binDir/name`: it appends its arguments,
 * the FAKE_PROVIDER_ENV variable and the request from stdin to `calls.log`, prints
 * `response.json` and exits with the code in `exit-code` (0 when absent). With `hang` it never
 * answers (for the timeout).
 */
export async function writeFakeProvider(
  binDir: string,
  name: string,
  options: { hang?: boolean } = {},
): Promise<FakeProvider> {
  await mkdir(binDir, { recursive: true });
  const state = join(binDir, `${name}.state`);
  await mkdir(state, { recursive: true });
  const script = options.hang
    ? '#!/bin/sh\nexec sleep 600\n'
    : `#!/bin/sh
state='${state}'
request=$(cat)
printf 'args=%s env=%s request=%s\\n' "$*" "$FAKE_PROVIDER_ENV" "$request" >> "$state/calls.log"
if [ -f "$state/stderr" ]; then cat "$state/stderr" >&2; fi
cat "$state/response.json" 2>/dev/null
exit $(cat "$state/exit-code" 2>/dev/null || echo 0)
`;
  const path = join(binDir, name);
  await writeFile(path, script);
  await chmod(path, 0o755);
  return new FakeProvider(state);
}

export class FakeProvider {
  constructor(private readonly state: string) {}

  async respond(response: Record<string, unknown>): Promise<void> {
    await writeFile(
      join(this.state, 'response.json'),
      JSON.stringify({
        apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
        kind: 'CredentialProviderResponse',
        ...response,
      }),
    );
  }

  async respondRaw(text: string): Promise<void> {
    await writeFile(join(this.state, 'response.json'), text);
  }

  async fail(code: number, stderr: string): Promise<void> {
    await writeFile(join(this.state, 'exit-code'), String(code));
    await writeFile(join(this.state, 'stderr'), stderr);
  }

  /** One entry per run: its args, FAKE_PROVIDER_ENV and the parsed request. */
  async calls(): Promise<{ args: string; env: string; request: Record<string, unknown> }[]> {
    const text = await readFile(join(this.state, 'calls.log'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const match = /^args=(.*) env=(.*) request=(.*)$/.exec(line)!;
        return { args: match[1]!, env: match[2]!, request: JSON.parse(match[3]!) };
      });
  }
}
