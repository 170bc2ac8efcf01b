import { InvalidFieldError } from '../errors';
import type { NftChain, NftElement, NftFamily, NftMap, NftObject, NftSet } from './model';
import { NFT_NAME_LENGTH_MAX } from './model';
import { NFT_NAME_PATTERN } from './references';
import type { NftOperation, NftTransaction } from './transaction';

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

// nft 1.0.x reads object names unquoted only, so a name must be a plain identifier.
function nameOf(name: string): string {
  if (!NFT_NAME_PATTERN.test(name) || name.length >= NFT_NAME_LENGTH_MAX) {
    throw new InvalidFieldError(
      'name',
      name,
      'is not a valid nftables name ([A-Za-z_.][A-Za-z0-9_./-]*, < 256 chars)',
    );
  }
  return name;
}

function commentClause(comment: string | undefined): string {
  return comment === undefined ? '' : ` comment ${quote(comment)}`;
}

function chainBody(chain: NftChain): string {
  const parts: string[] = [];
  if (chain.type || chain.hook) {
    if (!chain.type || !chain.hook || chain.priority === undefined) {
      throw new InvalidFieldError(`chain ${chain.name}`, chain, 'a base chain needs type, hook and priority');
    }
    parts.push(
      `type ${chain.type} hook ${chain.hook}${chain.device ? ` device ${quote(chain.device)}` : ''} priority ${chain.priority} ;`,
    );
    if (chain.policy) parts.push(`policy ${chain.policy} ;`);
  }
  if (chain.comment !== undefined) parts.push(`comment ${quote(chain.comment)} ;`);
  return parts.length === 0 ? '' : ` { ${parts.join(' ')} }`;
}

function setBody(set: NftSet | NftMap): string {
  const keyword = set.typeof ? 'typeof' : 'type';
  const parts = [
    set.kind === 'map' ? `${keyword} ${set.type} : ${set.valueType} ;` : `${keyword} ${set.type} ;`,
  ];
  if (set.flags && set.flags.length > 0) parts.push(`flags ${set.flags.join(',')} ;`);
  if (set.timeout !== undefined) parts.push(`timeout ${set.timeout} ;`);
  if (set.size !== undefined) parts.push(`size ${set.size} ;`);
  if (set.comment !== undefined) parts.push(`comment ${quote(set.comment)} ;`);
  return ` { ${parts.join(' ')} }`;
}

/** One element inside `{ … }`: `k1 . k2 [timeout T] [comment "c"] [: v]`. */
export function renderElement(element: NftElement, withValue: boolean): string {
  let text = element.key.join(' . ');
  if (element.timeout !== undefined) text += ` timeout ${element.timeout}`;
  text += commentClause(element.comment);
  if (withValue && element.value && element.value.length > 0) text += ` : ${element.value.join(' . ')}`;
  return text;
}

/**
 * `renderElement({ key, value, comment, timeout }, true)` from the key and value already joined
 * with ' . ' ('' value: none), as one flat string: for renderers that keep elements as text.
 */
export function renderElementText(
  keyText: string,
  valueText: string,
  comment: string | undefined,
  timeout: string | undefined,
): string {
  const parts = [keyText];
  if (timeout !== undefined) parts.push(' timeout ', timeout);
  if (comment !== undefined) parts.push(commentClause(comment));
  if (valueText !== '') parts.push(' : ', valueText);
  return parts.join('');
}

/**
 * The `add element` commands renderScript writes for consecutive additions of these rendered
 * elements (renderElementText) to `container`: MAX_ELEMENTS_PER_COMMAND per line, each
 * "\n"-terminated.
 */
export function renderElementAdds(
  family: NftFamily,
  table: string,
  container: string,
  items: readonly string[],
): string {
  const head = ['add element ', family, ' ', nameOf(table), ' ', nameOf(container), ' { '].join('');
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += MAX_ELEMENTS_PER_COMMAND)
    lines.push(head, items.slice(i, i + MAX_ELEMENTS_PER_COMMAND).join(', '), ' }\n');
  return lines.join('');
}

function objectWord(object: NftObject): string {
  return object.kind;
}

function renderOperation(op: NftOperation, family: NftFamily, table: string): string {
  const { verb, object } = op;
  const prefix = `${family} ${table}`;
  switch (object.kind) {
    case 'table':
      if (verb === 'add' || verb === 'create') {
        return `${verb} table ${prefix}${object.comment !== undefined ? ` { comment ${quote(object.comment)} ; }` : ''}`;
      }
      return `${verb} table ${prefix}`;
    case 'chain':
      if (verb === 'add' || verb === 'create')
        return `${verb} chain ${prefix} ${nameOf(object.name)}${chainBody(object)}`;
      return `${verb} chain ${prefix} ${nameOf(object.name)}`;
    case 'set':
    case 'map':
      if (verb === 'add' || verb === 'create')
        return `${verb} ${object.kind} ${prefix} ${nameOf(object.name)}${setBody(object)}`;
      return `${verb} ${object.kind} ${prefix} ${nameOf(object.name)}`;
    case 'element': {
      // Values are only spelled out when adding; delete takes keys alone.
      const withValue = verb === 'add' || verb === 'create';
      return `${verb} element ${prefix} ${nameOf(object.container)} { ${renderElement(object, withValue)} }`;
    }
    case 'rule': {
      const chain = `${prefix} ${nameOf(object.chain)}`;
      const body = `${object.rule}${commentClause(object.comment)}`;
      switch (verb) {
        case 'add':
        case 'insert':
          return `${verb} rule ${chain}${object.position !== undefined ? ` position ${object.position}` : ''} ${body}`;
        case 'replace':
        case 'delete':
          if (object.handle === undefined) {
            throw new InvalidFieldError(`rule in ${object.chain}`, object.rule, `${verb} needs a handle`);
          }
          return verb === 'replace'
            ? `replace rule ${chain} handle ${object.handle} ${body}`
            : `delete rule ${chain} handle ${object.handle}`;
        default:
          throw new InvalidFieldError(`rule in ${object.chain}`, verb, 'is not a rule operation');
      }
    }
  }
  throw new InvalidFieldError('object', objectWord(object), 'is not an nftables object');
}

// Merged element lists are cut into commands of this many elements: one huge line makes nft's
// parser hold the whole list at once for no gain.
export const MAX_ELEMENTS_PER_COMMAND = 4096;

/** How a transaction is rendered for the installed nft. */
export interface RenderScriptOptions {
  /**
   * nft releases before 1.0.8 have no `destroy`: render it as `add` then `delete` (which is
   * a no-op pair for a missing object and a delete for an existing one). A set or map must
   * then be given with its full definition, or the `add` conflicts. Default true.
   */
  emulateDestroy?: boolean;
}

/**
 * The `nft -f -` script for a transaction on `family table`. Consecutive element additions or
 * deletions on the same set are merged into one `{ a, b, … }` command: nft parses and
 * evaluates one command per line, so 10k single-element lines cost far more than one list.
 */
export function renderScript(
  family: NftFamily,
  table: string,
  tx: NftTransaction | readonly NftOperation[],
  options: RenderScriptOptions = {},
): string {
  const ops = Array.isArray(tx) ? (tx as readonly NftOperation[]) : (tx as NftTransaction).operations;
  const emulateDestroy = options.emulateDestroy ?? true;
  const lines: string[] = [];
  const prefix = `${family} ${nameOf(table)}`;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.verb === 'destroy' && emulateDestroy) {
      const addable = op.object.kind === 'element' ? op.object : stripForDestroy(op.object);
      lines.push(renderOperation({ verb: 'add', object: addable }, family, table));
      lines.push(renderOperation({ verb: 'delete', object: addable }, family, table));
      continue;
    }
    if (op.object.kind === 'element' && (op.verb === 'add' || op.verb === 'delete')) {
      const container = op.object.container;
      const withValue = op.verb === 'add';
      const items = [renderElement(op.object, withValue)];
      while (i + 1 < ops.length && items.length < MAX_ELEMENTS_PER_COMMAND) {
        const next = ops[i + 1]!;
        if (next.verb !== op.verb || next.object.kind !== 'element' || next.object.container !== container)
          break;
        items.push(renderElement(next.object, withValue));
        i++;
      }
      lines.push(`${op.verb} element ${prefix} ${nameOf(container)} { ${items.join(', ')} }`);
      continue;
    }
    lines.push(renderOperation(op, family, table));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

// `add` of a chain/set/map to destroy it must not carry a body that could conflict with the
// existing object's; an existing set's type is required though, so sets keep theirs.
function stripForDestroy(object: NftObject): NftObject {
  if (object.kind === 'chain') return { kind: 'chain', name: object.name, ...baseChainParts(object) };
  if (object.kind === 'table') return { kind: 'table' };
  return object;
}

function baseChainParts(chain: NftChain): Partial<NftChain> {
  return chain.type ? { type: chain.type, hook: chain.hook, priority: chain.priority } : {};
}
