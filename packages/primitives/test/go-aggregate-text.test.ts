import { describe, expect, it } from 'vitest';
import { goAggregateText } from '../src/go-text/go-aggregate-text';

describe('goAggregateText: utilerrors.NewAggregate as upstream prints it', () => {
  it('gives one message as it is and several in brackets, each once, in order', () => {
    expect(goAggregateText(['a'])).toBe('a');
    expect(goAggregateText(['a', 'a'])).toBe('a');
    expect(goAggregateText(['a', 'b', 'a'])).toBe('[a, b]');
    expect(goAggregateText(['b', 'a'])).toBe('[b, a]');
  });
});
