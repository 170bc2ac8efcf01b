import { blockDeviceUsage } from './block-device-usage';
import type { CsiVolumeUsage } from './csi/csi-volume-stats';
import type { ClaimVolumeStats } from './csi/csi-volumes';
import { statfsUsage } from './statfs-usage';

/** One pod volume of a claim measured here: where it is, the claim it belongs to, and whether it is a device. */
interface MeasuredClaim {
  /** The volume's directory, or for a Block volume the pod's link to the device. */
  dir: string;
  pvcRef: { name: string; namespace: string };
  block?: boolean;
}

/**
 * The pod volumes of claims on local and nfs PersistentVolumes, which upstream's plugins measure
 * themselves: by statfs (MetricsStatFS), and a local Block volume by its device's size
 * (MetricsBlock). For the summary's pod volume stats and kubelet_volume_stats_*. A volume that
 * cannot be measured is left out of that round.
 */
export class MeasuredClaims {
  private readonly byPod = new Map<string, Map<string, MeasuredClaim>>();

  /** Pod `uid`'s volume `name` is mounted at `dir` for claim `pvcRef`. */
  record(uid: string, name: string, claim: MeasuredClaim): void {
    const volumes = this.byPod.get(uid) ?? new Map<string, MeasuredClaim>();
    volumes.set(name, claim);
    this.byPod.set(uid, volumes);
  }

  /** The pod's volumes are gone. */
  forgetPod(uid: string): void {
    this.byPod.delete(uid);
  }

  /** The pod's measured volumes, by volume name, with their claims. */
  async podStats(uid: string): Promise<Map<string, CsiVolumeUsage>> {
    const out = new Map<string, CsiVolumeUsage>();
    for (const [name, claim] of this.byPod.get(uid) ?? []) {
      const usage = await measure(claim).catch(() => undefined);
      if (usage) out.set(name, { ...usage, pvcRef: claim.pvcRef });
    }
    return out;
  }

  /** Each measured claim once, skipping the `namespace/name` keys in `seen`. */
  async claimStats(seen: ReadonlySet<string>): Promise<ClaimVolumeStats[]> {
    const out: ClaimVolumeStats[] = [];
    const keys = new Set(seen);
    for (const volumes of this.byPod.values())
      for (const claim of volumes.values()) {
        const { pvcRef } = claim;
        const key = `${pvcRef.namespace}/${pvcRef.name}`;
        if (keys.has(key)) continue;
        const usage = await measure(claim).catch(() => undefined);
        if (!usage) continue;
        keys.add(key);
        out.push({ namespace: pvcRef.namespace, claim: pvcRef.name, ...usage });
      }
    return out;
  }
}

function measure(claim: MeasuredClaim): Promise<CsiVolumeUsage> {
  return claim.block ? blockDeviceUsage(claim.dir) : statfsUsage(claim.dir);
}
