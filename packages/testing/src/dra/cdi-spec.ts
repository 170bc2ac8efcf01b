import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The CDI version the spec files declare (one every containerd with CDI accepts, as upstream's test driver). */
export const CDI_VERSION = '0.3.0';

/** One prepared request: the CDI device the containers of the claim's users get. */
export interface CdiRequestDevice {
  /** The claim's request (`dev`, or `req/sub` for a firstAvailable subrequest). */
  request: string;
  /** Environment variables (`NAME=value`) the device's containerEdits set. */
  env: string[];
}

/** The CDI kind of a driver's devices: `<driver>/test`, as upstream's DRA test driver. */
export const cdiKind = (driver: string) => `${driver}/test`;

/** The CDI device name for a claim's request: `claim-<uid>-<request>` (`/` of a subrequest as `-`). */
export const cdiDeviceName = (claimUid: string, request: string) =>
  `claim-${claimUid}-${request.replace(/\//g, '-')}`;

/** The fully qualified CDI device ID the kubelet passes to the runtime. */
export const cdiDeviceId = (driver: string, claimUid: string, request: string) =>
  `${cdiKind(driver)}=${cdiDeviceName(claimUid, request)}`;

/** Where a claim's spec lives: `<cdiDir>/<driver>-<claimUID>.json`. */
export const cdiSpecPath = (cdiDir: string, driver: string, claimUid: string) =>
  join(cdiDir, `${driver}-${claimUid}.json`);

/**
 * Write a claim's CDI spec (one device per request, each with its env edits) atomically: to a
 * temporary name, then renamed, so a runtime scanning the directory never reads half a file.
 */
export async function writeCdiSpec(
  cdiDir: string,
  driver: string,
  claimUid: string,
  devices: readonly CdiRequestDevice[],
): Promise<string> {
  await mkdir(cdiDir, { recursive: true });
  const path = cdiSpecPath(cdiDir, driver, claimUid);
  const spec = {
    cdiVersion: CDI_VERSION,
    kind: cdiKind(driver),
    devices: devices.map((d) => ({
      name: cdiDeviceName(claimUid, d.request),
      containerEdits: { env: d.env },
    })),
  };
  await writeFile(`${path}.tmp`, `${JSON.stringify(spec, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return path;
}

/** Remove a claim's CDI spec; a missing one is fine (unprepare is idempotent). */
export async function removeCdiSpec(cdiDir: string, driver: string, claimUid: string): Promise<void> {
  await rm(cdiSpecPath(cdiDir, driver, claimUid), { force: true });
}
