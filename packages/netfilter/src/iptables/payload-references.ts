import { UnknownTargetError } from '../errors';
import { BUILTIN_CHAINS, KNOWN_EXTENSION_TARGETS, MODELLED_TARGETS, TABLE_NAMES } from './builtins';
import type { TableName } from './model';

/**
 * The check iptables-restore itself makes too late (at COMMIT, blaming the COMMIT line):
 * every `-j`/`-g` target of a payload must be a built-in target, a known target extension,
 * a chain declared in the same table section, or one of `existingChains`. A single pass over
 * the text, cheap enough to run before every apply; throws UnknownTargetError naming the
 * line.
 */
export function checkPayloadReferences(
  payload: string,
  existingChains: Partial<Record<TableName, Iterable<string>>> = {},
): void {
  let table: TableName | undefined;
  let declared = new Set<string>();
  let pending: { chain: string; line: number; target: string }[] = [];
  let lineNumber = 0;
  let start = 0;
  while (start < payload.length) {
    lineNumber++;
    const end = payload.indexOf('\n', start);
    const line = payload.slice(start, end < 0 ? payload.length : end);
    start = end < 0 ? payload.length : end + 1;
    const first = line.charCodeAt(0);
    if (first === 42 /* * */) {
      table = line.slice(1).trim() as TableName;
      declared = new Set(TABLE_NAMES.includes(table) ? BUILTIN_CHAINS[table] : []);
      for (const chain of existingChains[table] ?? []) declared.add(chain);
      pending = [];
    } else if (first === 58 /* : */) {
      const space = line.indexOf(' ');
      declared.add(line.slice(1, space < 0 ? undefined : space));
    } else if (first === 45 /* - */ && line.charCodeAt(1) === 65 /* A */) {
      // The target is the token after the last " -j " / " -g ": comments come before it and
      // target options never contain one.
      const at = Math.max(line.lastIndexOf(' -j '), line.lastIndexOf(' -g '));
      if (at < 0) continue;
      const rest = line.slice(at + 4);
      const space = rest.indexOf(' ');
      const target = space < 0 ? rest : rest.slice(0, space);
      if (!MODELLED_TARGETS.has(target) && !KNOWN_EXTENSION_TARGETS.has(target)) {
        pending.push({ chain: line.slice(3, line.indexOf(' ', 3)), line: lineNumber, target });
      }
    } else if (line === 'COMMIT') {
      for (const ref of pending) {
        if (!declared.has(ref.target)) {
          throw new UnknownTargetError(
            `${table ?? '?'}/${ref.chain} (payload line ${ref.line}) target`,
            ref.target,
          );
        }
      }
      pending = [];
    }
  }
}
