import { describe, expect, it } from 'vitest';
import { listsAsProtobuf, mediaTypes } from '../src/config/list-content-type';

const PB = 'application/vnd.kubernetes.protobuf';
const JSON_TYPE = 'application/json';

describe('the informers content type (clientConnection.contentType / acceptContentTypes)', () => {
  it('reads an Accept list in order, without parameters or blanks', () => {
    expect(mediaTypes(`${PB};q=0.9 , ${JSON_TYPE};as=Table;v=v1,, `)).toEqual([PB, JSON_TYPE]);
    expect(mediaTypes('')).toEqual([]);
  });

  it('asks for protobuf as upstream client does: acceptContentTypes when set, else contentType', () => {
    expect(listsAsProtobuf({ contentType: PB, acceptContentTypes: '' })).toBe(true);
    expect(listsAsProtobuf({ contentType: JSON_TYPE, acceptContentTypes: '' })).toBe(false);
    // The Accept header wins over contentType, either way.
    expect(listsAsProtobuf({ contentType: PB, acceptContentTypes: JSON_TYPE })).toBe(false);
    expect(listsAsProtobuf({ contentType: JSON_TYPE, acceptContentTypes: `${JSON_TYPE}, ${PB}` })).toBe(true);
    expect(listsAsProtobuf({ contentType: PB, acceptContentTypes: '  ' })).toBe(true);
  });
});
