import type { Clock } from '@nodeagent/primitives';
import type { Registry } from 'prom-client';
import type { KubeletLogger } from '../kubelet-logger';
import { rfc3339 } from '../rfc3339';
import { repositoryToPull } from './credential-provider/docker-keyring';
import type { ObjectCoordinates } from './credential-source';
import { FsImagePullRecords } from './fs-image-pull-records';
import {
  type ImagePullManagerMetrics,
  imagePullManagerMetrics,
  type MustPullCheckResult,
} from './image-pull-manager-metrics';
import type { ImagePullCredentials, ImagePulledRecord, ImagePullSecretRecord } from './image-pull-records';
import type { ImagePullVerificationPolicy } from './image-pull-verification-policy';

/** The credentials a pod presents for an image: its pull secrets' (hashed) and its service account. */
export interface PodImageCredentials {
  secrets: ImagePullSecretRecord[];
  serviceAccount?: ObjectCoordinates;
}

/** An image the runtime holds, by id and the names it answers to. */
export interface PresentImage {
  id: string;
  repoTags: readonly string[];
  repoDigests?: readonly string[];
}

/** Where an ImagePullManager keeps its records, which policy it enforces and how it reads the runtime's images. */
export interface ImagePullManagerOptions {
  /** --root-dir: records live under <root-dir>/image_manager. */
  rootDir: string;
  /** Decides which present images need their credentials verified, e.g. from imagePullVerificationPolicy(). */
  policy: ImagePullVerificationPolicy;
  /** The runtime's images, read once at start to turn a restart's leftover intents into records. */
  listImages: () => Promise<readonly PresentImage[]>;
  clock: Clock;
  logger?: KubeletLogger;
  /** kubelet_imagemanager_ondisk_pullintents/_pulledrecords and _image_mustpull_checks_total. */
  registry?: Registry;
}

/**
 * Upstream writeRecordWhileMatchingLimit: past this many secrets for one repository, a match
 * through another secret with the same credential is no longer written down (bounded writes
 * when namespaces come and go).
 */
const writeRecordWhileMatchingLimit = 100;

/** Byte order, as Go's strings.Compare sorts. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byCoordinates = (a: ObjectCoordinates, b: ObjectCoordinates) =>
  compare(a.namespace, b.namespace) || compare(a.name, b.name) || compare(a.uid, b.uid);
const sameCoordinates = (a: ObjectCoordinates, b: ObjectCoordinates) =>
  a.uid === b.uid && a.namespace === b.namespace && a.name === b.name;

/**
 * Verified image pulls (KEP-2535; upstream pullmanager.PullManager): the kubelet writes an
 * intent before each pull and, once it succeeded, a record of the image id with the credential
 * that pulled it (a pull secret's coordinates and credential hash, the pod's service account, or
 * "node pods accessible" when no pod-scoped credential was needed). Before a pod uses a present
 * image without pulling (IfNotPresent, Never), mustAttemptImagePull says whether the policy
 * requires its credentials be checked and none of them matches a record: the pod must then pull
 * with its own credentials, or fail for Never. Records are files, so they survive restarts.
 */
export class ImagePullManager {
  private readonly records: FsImagePullRecords;
  /** In-flight pulls per image (the intent file is removed when the last one finishes). */
  private readonly intentCounts = new Map<string, number>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly metrics: ImagePullManagerMetrics | undefined;

  private constructor(private readonly options: ImagePullManagerOptions) {
    this.records = new FsImagePullRecords(options.rootDir);
    this.metrics = options.registry ? imagePullManagerMetrics(options.registry) : undefined;
  }

  /** Creates the record directories and turns intents left by a previous run into records. */
  static async create(options: ImagePullManagerOptions): Promise<ImagePullManager> {
    const manager = new ImagePullManager(options);
    await manager.records.init();
    await manager.initialize();
    await manager.refreshSizes();
    return manager;
  }

  get pullingDir(): string {
    return this.records.pullingDir;
  }

  get pulledDir(): string {
    return this.records.pulledDir;
  }

  /**
   * Before a pull: writes a pull intent for `image` to disk, so a kubelet that stops mid-pull still knows afterwards
   * that it pulled the image. Call recordImagePulled or recordImagePullFailed when the pull ends.
   */
  async recordPullIntent(image: string): Promise<void> {
    await this.locked(`intent:${image}`, async () => {
      await this.records.writeIntent(image);
      this.intentCounts.set(image, (this.intentCounts.get(image) ?? 0) + 1);
    });
    await this.refreshSizes();
  }

  /**
   * After a successful pull. `credentials` undefined: pulled under unknown circumstances — the
   * image is tracked but nobody is recorded, so the next use is verified.
   */
  async recordImagePulled(
    image: string,
    imageRef: string,
    credentials?: ImagePullCredentials,
  ): Promise<void> {
    try {
      await this.writePulledRecordIfChanged(image, imageRef, credentials);
    } catch (error) {
      // The intent stays (as upstream): the next start turns it into a record again.
      this.options.logger?.error({ err: error, imageRef }, 'failed to write image pulled record');
      return;
    }
    await this.decrementIntent(image);
    await this.refreshSizes();
  }

  /** After a failed pull: drops the intent recordPullIntent wrote (once no other pull of `image` is under way). */
  async recordImagePullFailed(image: string): Promise<void> {
    await this.decrementIntent(image);
    await this.refreshSizes();
  }

  /**
   * Whether a pod must pull `image` (present as `imageRef`) to prove it may use it. Records
   * that cannot be read count as "must pull" (fail safe).
   */
  async mustAttemptImagePull(
    image: string,
    imageRef: string,
    podCredentials: () => Promise<PodImageCredentials>,
  ): Promise<boolean> {
    const result = await this.check(image, imageRef, podCredentials);
    this.metrics?.mustPullChecks.inc({ result });
    return result === 'mustAuthenticate' || result === 'error';
  }

  private async check(
    image: string,
    imageRef: string,
    podCredentials: () => Promise<PodImageCredentials>,
  ): Promise<MustPullCheckResult> {
    if (imageRef === '') return 'mustAuthenticate';
    let record: ImagePulledRecord | undefined;
    let pulledByKubelet: boolean;
    try {
      record = await this.records.getPulled(imageRef);
      pulledByKubelet =
        record !== undefined ||
        (this.intentCounts.get(image) ?? 0) > 0 ||
        (await this.records.intentExists(image));
    } catch (error) {
      this.options.logger?.error(
        { err: error, image, imageRef },
        'Unable to access cache records about image pulls',
      );
      return 'error';
    }
    if (!this.options.policy(image, pulledByKubelet)) return 'credentialPolicyAllowed';
    if (!record) return 'mustAuthenticate';
    const cached = record.credentialMapping[repositoryToPull(image)];
    if (!cached) return 'mustAuthenticate';
    if (cached.nodePodsAccessible) return 'credentialRecordFound';
    const cachedSecrets = cached.kubernetesSecrets ?? [];
    const cachedAccounts = cached.kubernetesServiceAccounts ?? [];
    if (cachedSecrets.length === 0 && cachedAccounts.length === 0) return 'mustAuthenticate';

    const pod = await podCredentials();
    for (const secret of pod.secrets) {
      for (const known of cachedSecrets) {
        const hashesMatch = known.credentialHash.length > 0 && secret.credentialHash === known.credentialHash;
        const coordinatesMatch = sameCoordinates(secret, known);
        // The same credential under another secret, or this secret with rotated content that
        // still pulls: remember it so the next check matches directly.
        if ((hashesMatch && !coordinatesMatch) || (coordinatesMatch && !hashesMatch)) {
          if (cachedSecrets.length < writeRecordWhileMatchingLimit)
            await this.writePulledRecordIfChanged(image, imageRef, { kubernetesSecrets: [secret] }).catch(
              (error) =>
                this.options.logger?.error(
                  { err: error, image, imageRef },
                  'failed to write an image pulled record',
                ),
            );
        }
        if (hashesMatch || coordinatesMatch) return 'credentialRecordFound';
      }
    }
    const account = pod.serviceAccount;
    if (account && cachedAccounts.some((known) => sameCoordinates(known, account)))
      return 'credentialRecordFound';
    return 'mustAuthenticate';
  }

  /**
   * For image GC: removes the records of image ids not in `imageRefs` that were last updated
   * before `until` (taken before the runtime was asked for its images).
   */
  async pruneUnknownRecords(imageRefs: readonly string[], until: number): Promise<void> {
    const { items, errors } = await this.records.listPulled();
    for (const error of errors)
      this.options.logger?.warn({ err: error }, 'image pulled record unreadable; pruning without it');
    const inUse = new Set(imageRefs);
    for (const record of items) {
      if (Date.parse(record.lastUpdatedTime) >= until || inUse.has(record.imageRef)) continue;
      await this.locked(`pulled:${record.imageRef}`, () => this.records.deletePulled(record.imageRef));
    }
    await this.refreshSizes();
  }

  /**
   * Upstream initialize: an intent left by a previous run whose image the runtime now holds
   * (by tag or digest) becomes a pulled record with no credentials — its next use is verified.
   */
  private async initialize(): Promise<void> {
    const { items: intents, errors } = await this.records.listIntents();
    for (const error of errors)
      this.options.logger?.warn({ err: error }, 'image pull intent unreadable; continuing without it');
    if (intents.length === 0) return;
    let images: readonly PresentImage[] = [];
    try {
      images = await this.options.listImages();
    } catch (error) {
      this.options.logger?.error({ err: error }, 'failed to list images');
    }
    const pending = new Set(intents.map((intent) => intent.image));
    for (const present of images) {
      const names = [...(present.repoDigests ?? []), ...present.repoTags].filter((name) => pending.has(name));
      for (const image of new Set(names)) {
        try {
          await this.writePulledRecordIfChanged(image, present.id, undefined);
          await this.records.deleteIntent(image);
        } catch (error) {
          this.options.logger?.error(
            { err: error, imageRef: present.id },
            'failed to write an image pull record',
          );
        }
      }
    }
  }

  private async decrementIntent(image: string): Promise<void> {
    await this.locked(`intent:${image}`, async () => {
      const count = this.intentCounts.get(image) ?? 0;
      if (count > 1) {
        this.intentCounts.set(image, count - 1);
        return;
      }
      try {
        await this.records.deleteIntent(image);
        this.intentCounts.delete(image);
      } catch (error) {
        this.options.logger?.error({ err: error, image }, 'failed to remove image pull intent');
      }
    });
  }

  private writePulledRecordIfChanged(
    image: string,
    imageRef: string,
    credentials: ImagePullCredentials | undefined,
  ): Promise<void> {
    return this.locked(`pulled:${imageRef}`, async () => {
      const repository = repositoryToPull(image);
      let existing: ImagePulledRecord | undefined;
      try {
        existing = await this.records.getPulled(imageRef);
      } catch (error) {
        this.options.logger?.info({ err: error, image }, 'failed to retrieve an ImagePulledRecord');
      }
      const now = rfc3339(this.options.clock.now());
      if (!existing) {
        // The record alone marks the image as pulled by the kubelet; without credentials in it,
        // every use is verified.
        const mapping: Record<string, ImagePullCredentials> = {};
        if (credentials) mapping[repository] = credentials;
        await this.records.writePulled({ lastUpdatedTime: now, imageRef, credentialMapping: mapping });
        return;
      }
      const merged = mergeCredentials(existing.credentialMapping[repository], credentials);
      if (!merged) return;
      await this.records.writePulled({
        lastUpdatedTime: now,
        imageRef,
        credentialMapping: { ...existing.credentialMapping, [repository]: merged },
      });
    });
  }

  /** The on-disk gauges, counted again after a write or a delete (as upstream's metering accessor). */
  private async refreshSizes(): Promise<void> {
    const metrics = this.metrics;
    if (!metrics) return;
    try {
      metrics.ondiskPullIntents.set(await this.records.count('pulling'));
      metrics.ondiskPulledRecords.set(await this.records.count('pulled'));
    } catch {
      // A directory that cannot be read leaves the gauges as they were.
    }
  }

  /** Runs `fn` after every earlier call under the same key (records are read, then written). */
  private locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.locks.set(key, settled);
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return run;
  }
}

/**
 * Upstream pulledRecordMergeNewCreds for one repository: undefined when nothing changes.
 * "Node pods accessible" wins over any list; secrets are unique by coordinates (the newer hash
 * kept) and sorted by namespace, name, uid; service accounts likewise.
 */
export function mergeCredentials(
  existing: ImagePullCredentials | undefined,
  added: ImagePullCredentials | undefined,
): ImagePullCredentials | undefined {
  if (!added) return undefined;
  const addedSecrets = added.kubernetesSecrets ?? [];
  const addedAccounts = added.kubernetesServiceAccounts ?? [];
  if (!added.nodePodsAccessible && addedSecrets.length === 0 && addedAccounts.length === 0) return undefined;
  if (!existing) return added;
  if (existing.nodePodsAccessible) return undefined;
  if (added.nodePodsAccessible) return { nodePodsAccessible: true };
  if (addedSecrets.length > 0) {
    const secrets = [...(existing.kubernetesSecrets ?? [])];
    let changed = false;
    for (const secret of addedSecrets) {
      const index = secrets.findIndex((known) => sameCoordinates(known, secret));
      if (index < 0) secrets.push(secret);
      else if (secrets[index]!.credentialHash !== secret.credentialHash) secrets[index] = secret;
      else continue;
      changed = true;
    }
    if (!changed) return undefined;
    return { ...existing, kubernetesSecrets: secrets.sort(byCoordinates) };
  }
  const accounts = [...(existing.kubernetesServiceAccounts ?? [])];
  let changed = false;
  for (const account of addedAccounts) {
    if (accounts.some((known) => sameCoordinates(known, account))) continue;
    accounts.push(account);
    changed = true;
  }
  if (!changed) return undefined;
  return { ...existing, kubernetesServiceAccounts: accounts.sort(byCoordinates) };
}
