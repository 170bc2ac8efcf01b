/** Chains a rule body or verdict jumps/goes to. */
export function chainReferences(text: string): string[] {
  return [...text.matchAll(/\b(?:jump|goto)\s+([A-Za-z0-9_./-]+)/g)].map((m) => m[1]!);
}

/** Named sets/maps a rule body looks up (`@name`). */
export function setReferences(text: string): string[] {
  return [...text.matchAll(/@([A-Za-z0-9_./-]+)/g)].map((m) => m[1]!);
}

/** nft 1.0.x reads names unquoted: a letter, `_` or `.` first, then `[A-Za-z0-9_./-]`. */
export const NFT_NAME_PATTERN = /^[A-Za-z_.][A-Za-z0-9_./-]*$/;
