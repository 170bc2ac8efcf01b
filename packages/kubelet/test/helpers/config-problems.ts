import { expect } from 'vitest';
import { parseKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { InvalidConfigError } from '../../src/errors';

/**
 * Every problem parseKubeletConfiguration reports for `input`, as "field: reason" in the order
 * reported; [] when it accepts the input.
 */
export function configProblems(input: Record<string, unknown>): string[] {
  try {
    parseKubeletConfiguration(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    const e = error as InvalidConfigError;
    return (e.causes.length > 0 ? e.causes : [e]).map((cause) => `${cause.field}: ${cause.reason}`);
  }
  return [];
}
