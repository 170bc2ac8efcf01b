import { httpStatusCode } from '../api/http-status-code';
import type { ObjectStore } from './object-store';
import type { ObjectGetter } from './ttl-object-store';

/**
 * Upstream's simple managers (the Get strategy): every read is a GET to the API server, nothing
 * is kept and registration does nothing.
 */
export class GetObjectStore<T> implements ObjectStore<T> {
  constructor(private readonly getObject: ObjectGetter<T>) {}

  addReference(): void {}

  deleteReference(): void {}

  async get(namespace: string, name: string): Promise<T | undefined> {
    try {
      return await this.getObject(namespace, name);
    } catch (error) {
      if (httpStatusCode(error) === 404) return undefined;
      throw error;
    }
  }

  async stop(): Promise<void> {}
}
