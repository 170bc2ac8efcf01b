import type { IpFamily, Ruleset, Table } from './model';
import { checkPayloadReferences } from './payload-references';
import { renderRestore } from './render-restore';
import type { RestoreOptions } from './restore-options';
import { validateRuleset } from './validate';

/**
 * The iptables-restore text for what `restore()` was given (a payload as is, or a model
 * validated then rendered), with its chain references checked unless `validate: false`. The
 * real client and the fake share it, so both refuse the same input before applying anything.
 */
export function restorePayload(
  input: string | Ruleset | readonly Table[],
  family: IpFamily,
  options: RestoreOptions,
): string {
  let payload: string;
  if (typeof input === 'string') {
    payload = input;
  } else {
    const ruleset: Ruleset = Array.isArray(input)
      ? { family, tables: input as readonly Table[] }
      : (input as Ruleset);
    if (options.validate && options.validate.full === true) validateRuleset(ruleset, options.validate);
    payload = renderRestore(ruleset, options.render);
  }
  if (options.validate !== false) checkPayloadReferences(payload, options.validate?.existingChains);
  return payload;
}
