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
  let pending: { start: number; line: number; target: string }[] = [];
  let lineNumber = 0;
  let start = 0;
  while (start < payload.length) {
    lineNumber++;
    const newline = payload.indexOf('\n', start);
    const end = newline < 0 ? payload.length : newline;
    const first = payload.charCodeAt(start);
    if (first === 42 /* * */) {
      table = payload.slice(start + 1, end).trim() as TableName;
      declared = new Set(TABLE_NAMES.includes(table) ? BUILTIN_CHAINS[table] : []);
      for (const chain of existingChains[table] ?? []) declared.add(chain);
      pending = [];
    } else if (first === 58 /* : */) {
      const space = payload.indexOf(' ', start);
      declared.add(payload.slice(start + 1, space < 0 || space > end ? end : space));
    } else if (first === 45 /* - */ && payload.charCodeAt(start + 1) === 65 /* A */) {
      // The target is the token after the last " -j " / " -g " of the line: comments come
      // before it and target options never contain one. (Searched within the line's own slice:
      // lastIndexOf on the whole payload would scan back to its start for a missing " -g ".)
      const line = payload.slice(start, end);
      const at = Math.max(line.lastIndexOf(' -j '), line.lastIndexOf(' -g '));
      if (at > 0) {
        const space = line.indexOf(' ', at + 4);
        const target = line.slice(at + 4, space < 0 ? undefined : space);
        if (!MODELLED_TARGETS.has(target) && !KNOWN_EXTENSION_TARGETS.has(target) && !declared.has(target)) {
          // Declarations may follow the rule within the section: decide at COMMIT.
          pending.push({ start, line: lineNumber, target });
        }
      }
    } else if (end - start === 6 && payload.startsWith('COMMIT', start)) {
      for (const ref of pending) {
        if (!declared.has(ref.target)) {
          const chainEnd = payload.indexOf(' ', ref.start + 3);
          const chain = payload.slice(ref.start + 3, chainEnd);
          throw new UnknownTargetError(
            `${table ?? '?'}/${chain} (payload line ${ref.line}) target`,
            ref.target,
          );
        }
      }
      pending = [];
    }
    start = end + 1;
  }
}
