import type {
  DraClaimRef,
  DraDeviceHealthAnswer,
  DraPluginConnection,
  DraPrepareAnswer,
  DraService,
} from '../../src/dra/dra-plugin';
import type { ResourceClaim } from '../../src/dra/resource-claim';

export const DRIVER = 'test-driver.cdi.k8s.io';

/**
 * A DRA driver behind the DraPluginConnection seam, for tests of the manager's logic: it records
 * each call and answers as upstream's test driver does (one device a claim, its CDI device ID
 * named after the claim's uid); a test sets the faults.
 */
export class FakeDriver {
  readonly prepareCalls: DraClaimRef[][] = [];
  readonly unprepareCalls: DraClaimRef[][] = [];
  readonly connections: { endpoint: string; service: DraService; closed: boolean }[] = [];
  prepareError: Error | undefined;
  unprepareError: Error | undefined;
  claimError: string | undefined;
  skipAnswers = false;
  health: ((devices: DraDeviceHealthAnswer[]) => void) | undefined;
  healthEnd: ((error?: Error) => void) | undefined;
  streamsOpened = 0;

  connect = (endpoint: string, service: DraService): DraPluginConnection => {
    const record = { endpoint, service, closed: false };
    this.connections.push(record);
    return {
      nodePrepareResources: async (claims) => {
        this.prepareCalls.push(claims);
        if (this.prepareError) throw this.prepareError;
        const answer: DraPrepareAnswer = { claims: {} };
        if (this.skipAnswers) return answer;
        for (const claim of claims)
          answer.claims[claim.uid] = this.claimError
            ? { error: this.claimError }
            : {
                devices: [
                  {
                    requestNames: ['dev'],
                    poolName: 'np-upstream',
                    deviceName: 'device-00',
                    cdiDeviceIds: [`${DRIVER}/test=claim-${claim.uid}-dev`],
                  },
                ],
              };
        return answer;
      },
      nodeUnprepareResources: async (claims) => {
        this.unprepareCalls.push(claims);
        if (this.unprepareError) throw this.unprepareError;
        return { claims: Object.fromEntries(claims.map((c) => [c.uid, {}])) };
      },
      watchResources: (onAnswer, onEnd) => {
        this.streamsOpened++;
        this.health = onAnswer;
        this.healthEnd = onEnd;
        return { cancel: () => (this.health = undefined) };
      },
      close: () => {
        record.closed = true;
      },
    };
  };
}

/** An allocated claim reserved for `podUid` (none: reserved for no pod). */
export function claim(
  name: string,
  uid: string,
  podUid: string,
  opts: { allocated?: boolean } = {},
): ResourceClaim {
  return {
    metadata: { name, namespace: 'default', uid },
    status: {
      ...(opts.allocated === false
        ? {}
        : {
            allocation: {
              devices: {
                results: [{ request: 'dev', driver: DRIVER, pool: 'np-upstream', device: 'device-00' }],
              },
            },
          }),
      reservedFor: podUid ? [{ resource: 'pods', name: 'p', uid: podUid }] : [],
    },
  };
}
