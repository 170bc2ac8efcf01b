// Elements as text: how a table hands its elements to an encoder without an object and key and
// value arrays per element (IncrementalNftTable.forEachElementText → the netlink encoder).

/**
 * Called once per element: its set or map, its key and (maps) value as the parts joined by
 * ` . ` (value '' for set elements), its comment and timeout when it has them.
 */
export type NftElementTextVisitor = (
  container: string,
  key: string,
  value: string,
  comment: string | undefined,
  timeout: string | undefined,
) => void;

/**
 * Elements as text: calls `visit` once per element, container by container (all of one
 * container's elements in a row). IncrementalNftTable.forEachElementText is one.
 */
export type NftElementTextSource = (visit: NftElementTextVisitor) => void;
