/** One device a driver prepared for a claim (upstream state.Device). */
export interface PreparedDevice {
  poolName: string;
  deviceName: string;
  /** The share of a device with consumable capacity (DRAConsumableCapacity). */
  shareId?: string;
  /** The claim's requests the device serves; empty: every request of the claim. */
  requestNames: string[];
  cdiDeviceIds: string[];
}

/** What the kubelet keeps of one ResourceClaim it prepared (upstream state.ClaimInfoState). */
export interface ClaimInfoState {
  claimUid: string;
  claimName: string;
  namespace: string;
  /** The pods using the claim on this node. */
  podUids: Set<string>;
  /** Every driver with devices in the claim's allocation, with what it prepared. */
  driverState: Map<string, PreparedDevice[]>;
}

/** A claim in the cache: its state, and whether NodePrepareResources succeeded since the kubelet started. */
export interface ClaimInfo extends ClaimInfoState {
  prepared: boolean;
}

/** A new, unprepared claim with the drivers of its allocation (upstream newClaimInfoFromClaim). */
export function newClaimInfo(
  claimUid: string,
  claimName: string,
  namespace: string,
  drivers: string[],
): ClaimInfo {
  return {
    claimUid,
    claimName,
    namespace,
    podUids: new Set(),
    driverState: new Map(drivers.map((driver) => [driver, []])),
    prepared: false,
  };
}

/**
 * The CDI devices of a claim for one of its requests (upstream cdiDevicesAsList): a device
 * serving no named request serves them all; an empty request name asks for every device.
 */
export function cdiDevicesFor(info: ClaimInfoState, requestName: string): string[] {
  const ids: string[] = [];
  for (const devices of info.driverState.values())
    for (const device of devices)
      if (!requestName || device.requestNames.length === 0 || device.requestNames.includes(requestName))
        ids.push(...device.cdiDeviceIds);
  return ids;
}

/**
 * The claims the kubelet prepared, by namespace/name (upstream claimInfoCache); the checkpoint
 * holds its state across restarts. Entries restored from it are not prepared in this run: a pod
 * whose sandbox must be created again prepares them again (drivers treat that as a no-op).
 */
export class ClaimInfoCache {
  private readonly claims = new Map<string, ClaimInfo>();

  constructor(restored: readonly ClaimInfoState[] = []) {
    for (const state of restored) this.add({ ...state, prepared: false });
  }

  get(claimName: string, namespace: string): ClaimInfo | undefined {
    return this.claims.get(`${namespace}/${claimName}`);
  }

  add(info: ClaimInfo): void {
    this.claims.set(`${info.namespace}/${info.claimName}`, info);
  }

  delete(claimName: string, namespace: string): void {
    this.claims.delete(`${namespace}/${claimName}`);
  }

  /** Whether any claim still counts pod `uid` among its users (upstream hasPodReference). */
  hasPodReference(uid: string): boolean {
    for (const info of this.claims.values()) if (info.podUids.has(uid)) return true;
    return false;
  }

  /** The names of the claims pod `uid` uses (upstream claimNamesForPod). */
  claimNamesForPod(uid: string): string[] {
    return [...this.claims.values()].filter((info) => info.podUids.has(uid)).map((info) => info.claimName);
  }

  all(): ClaimInfo[] {
    return [...this.claims.values()];
  }

  /** The state the checkpoint holds. */
  states(): ClaimInfoState[] {
    return this.all().map(({ prepared: _prepared, ...state }) => state);
  }
}
