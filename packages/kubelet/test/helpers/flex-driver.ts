import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What the fake driver answers to each call-out; `mount` and `unmount` touch and remove a marker file. */
export interface DriverAnswers {
  init?: string;
  mount?: string;
  unmount?: string;
}

/**
 * Installs `<pluginDir>/vendor~<name>/<name>`, a POSIX shell FlexVolume driver that appends each
 * call (its arguments, tab-separated) to `calls.log` beside it and answers with `answers`.
 * Returns the driver's directory.
 */
export async function installFlexDriver(
  pluginDir: string,
  name: string,
  answers: DriverAnswers = {},
): Promise<string> {
  const dir = join(pluginDir, `vendor~${name}`);
  await mkdir(dir, { recursive: true });
  const init = answers.init ?? '{"status":"Success","capabilities":{"attach":false}}';
  const mount = answers.mount ?? '{"status":"Success"}';
  const unmount = answers.unmount ?? '{"status":"Success"}';
  const script = `#!/bin/sh
log="$(dirname "$0")/calls.log"
(IFS="$(printf '\\t')"; printf '%s\\n' "$*") >> "$log"
case "$1" in
  init) echo '${init}' ;;
  mount) touch "$2/mounted-by-driver"; echo '${mount}' ;;
  unmount) rm -f "$2/mounted-by-driver"; echo '${unmount}' ;;
  *) echo '{"status":"Not supported"}' ;;
esac
`;
  await writeFile(join(dir, name), script);
  await chmod(join(dir, name), 0o755);
  return dir;
}

/** The calls the driver in `driverDir` received, each as its arguments. */
export async function flexDriverCalls(driverDir: string): Promise<string[][]> {
  const text = await readFile(join(driverDir, 'calls.log'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
}
