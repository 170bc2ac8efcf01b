import { hash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile } from '../replace-file';
import {
  decodeImagePulledRecord,
  decodeImagePullIntent,
  encodeImagePulledRecord,
  encodeImagePullIntent,
  type ImagePulledRecord,
  type ImagePullIntent,
} from './image-pull-records';

const cacheFilePrefix = 'sha256-';
const temporarySuffix = '.tmp';

/** Upstream's file name for a record: "sha256-" and the hex SHA-256 of the image (or image id). */
export function imagePullRecordFileName(key: string): string {
  return cacheFilePrefix + hash('sha256', key);
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/**
 * Pull intents and pulled records as files, where upstream keeps them:
 * <root-dir>/image_manager/pulling (one file per image being pulled) and
 * <root-dir>/image_manager/pulled (one per image id). Files are written to a ".tmp" sibling
 * and renamed into place, so a crash never leaves half a record; listings skip ".tmp" files.
 */
export class FsImagePullRecords {
  readonly pullingDir: string;
  readonly pulledDir: string;

  constructor(rootDir: string) {
    this.pullingDir = join(rootDir, 'image_manager', 'pulling');
    this.pulledDir = join(rootDir, 'image_manager', 'pulled');
  }

  async init(): Promise<void> {
    await mkdir(this.pullingDir, { recursive: true, mode: 0o700 });
    await mkdir(this.pulledDir, { recursive: true, mode: 0o700 });
  }

  writeIntent(image: string): Promise<void> {
    return writeAtomically(this.pullingDir, imagePullRecordFileName(image), encodeImagePullIntent({ image }));
  }

  async intentExists(image: string): Promise<boolean> {
    const file = join(this.pullingDir, imagePullRecordFileName(image));
    const text = await readFile(file, 'utf8').catch((error) => {
      if (isMissing(error)) return undefined;
      throw error;
    });
    return text !== undefined && decodeImagePullIntent(file, text).image === image;
  }

  deleteIntent(image: string): Promise<void> {
    return rm(join(this.pullingDir, imagePullRecordFileName(image)), { force: true });
  }

  /** Every readable intent; unreadable files are reported in `errors`, as upstream goes on without them. */
  listIntents(): Promise<{ items: ImagePullIntent[]; errors: Error[] }> {
    return listDir(this.pullingDir, decodeImagePullIntent);
  }

  /** The record of an image id; undefined when there is none (or the file names another id). */
  async getPulled(imageRef: string): Promise<ImagePulledRecord | undefined> {
    const file = join(this.pulledDir, imagePullRecordFileName(imageRef));
    const text = await readFile(file, 'utf8').catch((error) => {
      if (isMissing(error)) return undefined;
      throw error;
    });
    if (text === undefined) return undefined;
    const record = decodeImagePulledRecord(file, text);
    return record.imageRef === imageRef ? record : undefined;
  }

  writePulled(record: ImagePulledRecord): Promise<void> {
    return writeAtomically(
      this.pulledDir,
      imagePullRecordFileName(record.imageRef),
      encodeImagePulledRecord(record),
    );
  }

  deletePulled(imageRef: string): Promise<void> {
    return rm(join(this.pulledDir, imagePullRecordFileName(imageRef)), { force: true });
  }

  listPulled(): Promise<{ items: ImagePulledRecord[]; errors: Error[] }> {
    return listDir(this.pulledDir, decodeImagePulledRecord);
  }

  /** How many record files a directory holds (".tmp" files not counted), for the metrics. */
  async count(which: 'pulling' | 'pulled'): Promise<number> {
    const entries = await readdir(which === 'pulling' ? this.pullingDir : this.pulledDir, {
      withFileTypes: true,
    });
    return entries.filter(
      (e) => e.isFile() && e.name.startsWith(cacheFilePrefix) && !e.name.endsWith(temporarySuffix),
    ).length;
  }
}

async function writeAtomically(dir: string, name: string, content: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, name);
  await replaceFile(target, content, { mode: 0o600, temporaryPath: target + temporarySuffix });
}

async function listDir<T>(
  dir: string,
  decode: (file: string, text: string) => T,
): Promise<{ items: T[]; errors: Error[] }> {
  const items: T[] = [];
  const errors: Error[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return { items, errors };
    throw error;
  }
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.startsWith(cacheFilePrefix) || entry.name.endsWith(temporarySuffix))
      continue;
    const file = join(dir, entry.name);
    try {
      items.push(decode(file, await readFile(file, 'utf8')));
    } catch (error) {
      errors.push(error as Error);
    }
  }
  return { items, errors };
}
