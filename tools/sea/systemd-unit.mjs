// A systemd unit's [Service] settings as deploy/systemd writes them: one `Key=value` a line,
// `Environment=NAME=value` one variable each. Read by the units' test and by the soak bench,
// which starts each agent as its unit does.
import { readFileSync } from 'node:fs';

/**
 * The [Service] section of the unit at `path`: its `Environment=` assignments by variable, and
 * every other setting by key (the last one given).
 * @param {string} path
 * @returns {{ environment: Record<string, string>; settings: Record<string, string> }}
 */
export function serviceSection(path) {
  /** @type {Record<string, string>} */
  const environment = {};
  /** @type {Record<string, string>} */
  const settings = {};
  let section = '';
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) section = line;
    if (section !== '[Service]' || line.startsWith('#')) continue;
    const env = /^Environment=(\w+)=(\S*)$/.exec(line);
    const setting = /^(\w+)=(.*)$/.exec(line);
    if (env) environment[/** @type {string} */ (env[1])] = /** @type {string} */ (env[2]);
    else if (setting) settings[/** @type {string} */ (setting[1])] = /** @type {string} */ (setting[2]);
  }
  return { environment, settings };
}
