const LOCAL = 1;
const READY = 2;
const SERVING = 4;
const TERMINATING = 8;

/** An endpoint's topology hints: zone names and node names. */
export interface EndpointHints {
  readonly zones: readonly string[];
  readonly nodes: readonly string[];
}

const NO_HINT_NAMES: readonly string[] = Object.freeze([]);

/** Shared by every endpoint without hints (most of them). */
export const NO_HINTS: EndpointHints = Object.freeze({ zones: NO_HINT_NAMES, nodes: NO_HINT_NAMES });

/**
 * Hints from an EndpointSlice endpoint's names, NO_HINTS when both lists are empty. The lists
 * are the caller's fresh arrays: they are frozen and kept, not copied.
 */
export function endpointHints(zones: string[], nodes: string[]): EndpointHints {
  if (zones.length === 0 && nodes.length === 0) return NO_HINTS;
  return Object.freeze({
    zones: zones.length ? Object.freeze(zones) : NO_HINT_NAMES,
    nodes: nodes.length ? Object.freeze(nodes) : NO_HINT_NAMES,
  });
}

/** The four conditions of an endpoint as one number (CompactEndpoint's flags). */
export function endpointFlags(
  isLocal: boolean,
  ready: boolean,
  serving: boolean,
  terminating: boolean,
): number {
  return (
    (isLocal ? LOCAL : 0) | (ready ? READY : 0) | (serving ? SERVING : 0) | (terminating ? TERMINATING : 0)
  );
}

/**
 * EndpointInfo (endpoint.ts; structurally, without an import back) as the model stores it, one per endpoint of every Service (250k at 5,000
 * Services × 50, alive for the life of the process): seven fields instead of eleven. The four
 * conditions share one number and the two hint lists one reference, read through getters; on
 * 64-bit V8 that is 32 bytes less per endpoint (8 MB at 250k endpoints). Frozen, as EndpointInfo
 * promises.
 */
export class CompactEndpoint {
  constructor(
    readonly ip: string,
    readonly port: number,
    readonly endpoint: string,
    private readonly flags: number,
    private readonly hints: EndpointHints,
    readonly nodeName: string,
    readonly zone: string,
  ) {
    Object.freeze(this);
  }

  get isLocal(): boolean {
    return (this.flags & LOCAL) !== 0;
  }
  get ready(): boolean {
    return (this.flags & READY) !== 0;
  }
  get serving(): boolean {
    return (this.flags & SERVING) !== 0;
  }
  get terminating(): boolean {
    return (this.flags & TERMINATING) !== 0;
  }
  get zoneHints(): readonly string[] {
    return this.hints.zones;
  }
  get nodeHints(): readonly string[] {
    return this.hints.nodes;
  }
}
