/**
 * The Service port keys planned per Service ("ns/name" → servicePortKey), so a plan can visit
 * just the ports of the Services a snapshot says changed. The usual one-port Service holds its
 * key itself, not a Set (a Set per Service is ~250 bytes: 11 MB at 44k Services).
 */
export class PortKeysByService {
  private readonly byService = new Map<string, string | Set<string>>();

  add(service: string, key: string): void {
    const keys = this.byService.get(service);
    if (keys === undefined) this.byService.set(service, key);
    else if (typeof keys !== 'string') keys.add(key);
    else if (keys !== key) this.byService.set(service, new Set([keys, key]));
  }

  delete(service: string, key: string): void {
    const keys = this.byService.get(service);
    if (keys === key) this.byService.delete(service);
    else if (typeof keys !== 'string' && keys?.delete(key) && keys.size === 0) this.byService.delete(service);
  }

  /** The keys added for `service` and not deleted since. */
  keys(service: string): readonly string[] {
    const keys = this.byService.get(service);
    if (keys === undefined) return [];
    return typeof keys === 'string' ? [keys] : [...keys];
  }

  clear(): void {
    this.byService.clear();
  }
}
