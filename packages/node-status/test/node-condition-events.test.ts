import { describe, expect, it } from 'vitest';
import { conditionEventReasons, nextConditions } from '../src/node-conditions';

const at = (s: number) => new Date(s * 1000);

describe('conditionEventReasons (upstream condition setters: recordNodeStatusEvent)', () => {
  it('records every condition when it first appears, in the setters order', () => {
    const first = nextConditions(undefined, { ready: true }, at(1));
    expect(conditionEventReasons(undefined, first)).toEqual([
      'NodeHasSufficientMemory',
      'NodeHasNoDiskPressure',
      'NodeHasSufficientPID',
      'NodeReady',
    ]);
  });

  it('records only the conditions whose status changed; nothing for a heartbeat', () => {
    const first = nextConditions(undefined, { ready: true }, at(1));
    expect(conditionEventReasons(first, nextConditions(first, { ready: true }, at(2)))).toEqual([]);
    const notReady = nextConditions(
      first,
      { ready: false, notReadyErrors: ['PLEG'], memoryPressure: true },
      at(3),
    );
    expect(conditionEventReasons(first, notReady)).toEqual(['NodeHasInsufficientMemory', 'NodeNotReady']);
    const diskAndPid = nextConditions(
      notReady,
      { ready: false, diskPressure: true, pidPressure: true },
      at(4),
    );
    expect(conditionEventReasons(notReady, diskAndPid)).toEqual([
      'NodeHasSufficientMemory',
      'NodeHasDiskPressure',
      'NodeHasInsufficientPID',
    ]);
  });

  it("records a flip back from a status someone else set (the node controller's Ready=Unknown)", () => {
    const first = nextConditions(undefined, { ready: true }, at(1));
    const unknown = first.map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown' } : c));
    expect(conditionEventReasons(unknown, nextConditions(unknown, { ready: true }, at(2)))).toEqual([
      'NodeReady',
    ]);
  });
});
