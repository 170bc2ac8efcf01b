import { describe, expectTypeOf, it } from 'vitest';
import type { Wire } from '../src/index';

interface Meta {
  name?: string;
  creationTimestamp?: Date;
  labels?: { [key: string]: string };
}
interface Condition {
  type: string;
  lastTransitionTime?: Date;
}
interface Obj {
  metadata?: Meta;
  conditions?: readonly Condition[];
  port: number | string;
}

describe('Wire<T>: a model type as JSON', () => {
  it('makes every Date a string, through objects, arrays and optional fields, and leaves the rest', () => {
    expectTypeOf<Wire<Obj>>().toEqualTypeOf<{
      metadata?: { name?: string; creationTimestamp?: string; labels?: { [key: string]: string } };
      conditions?: { type: string; lastTransitionTime?: string }[];
      port: number | string;
    }>();
    expectTypeOf<Wire<Date>>().toEqualTypeOf<string>();
    expectTypeOf<Wire<Date[]>>().toEqualTypeOf<string[]>();
  });

  it('is idempotent, and a Date no longer type-checks where the JSON has a string', () => {
    expectTypeOf<Wire<Wire<Obj>>>().toEqualTypeOf<Wire<Obj>>();
    expectTypeOf<Wire<Obj>>().not.toMatchTypeOf<{ metadata?: { creationTimestamp?: Date } }>();
  });
});
