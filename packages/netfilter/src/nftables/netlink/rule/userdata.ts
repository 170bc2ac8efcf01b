// A rule's comment as nft stores it in NFTA_RULE_USERDATA: a libnftnl udata TLV of type
// NFTNL_UDATA_RULE_COMMENT (0), one length byte that counts the trailing NUL, the text, NUL.

import { InvalidFieldError } from '../../../errors';

const NFTNL_UDATA_RULE_COMMENT = 0;
/** nft's comment limit (NFTNL_UDATA_COMMENT_MAXLEN). */
const COMMENT_LENGTH_MAX = 128;

export function ruleCommentUserdata(comment: string): Buffer {
  const text = Buffer.from(comment, 'utf8');
  if (text.length + 1 > COMMENT_LENGTH_MAX)
    throw new InvalidFieldError(
      'nft rule comment',
      comment,
      `is longer than ${COMMENT_LENGTH_MAX - 1} bytes`,
    );
  return Buffer.concat([Buffer.from([NFTNL_UDATA_RULE_COMMENT, text.length + 1]), text, Buffer.from([0])]);
}

/** The comment in a rule's userdata, if it has one. */
export function ruleCommentFromUserdata(userdata: Buffer): string | undefined {
  let offset = 0;
  while (offset + 2 <= userdata.length) {
    const type = userdata[offset] as number;
    const length = userdata[offset + 1] as number;
    const value = userdata.subarray(offset + 2, offset + 2 + length);
    if (type === NFTNL_UDATA_RULE_COMMENT) {
      const end = value.indexOf(0);
      return value.toString('utf8', 0, end === -1 ? value.length : end);
    }
    offset += 2 + length;
  }
  return undefined;
}
