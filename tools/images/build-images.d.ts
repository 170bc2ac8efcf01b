/** The sandbox ("pause") image: busybox's `sleep` as PID 1, nothing else. */
export declare const PAUSE_IMAGE = 'localhost/nodeagent/pause:1.0';
/** A general-purpose image: busybox with every applet linked (sh, httpd, nc, sleep, wget, ...). */
export declare const BUSYBOX_IMAGE = 'localhost/nodeagent/busybox:1.0';
export interface LocalImage {
  /** Full reference the image is imported under, e.g. `localhost/nodeagent/busybox:1.0`. */
  name: string;
  /** OCI archive (tar) ready for `ctr images import`. */
  archive: string;
  /** Digest of the image manifest (`sha256:...`). */
  manifestDigest: string;
  /** Digest of the image config, which is what CRI reports as the image ID. */
  id: string;
}
export interface LocalImages {
  pause: LocalImage;
  busybox: LocalImage;
}
export interface BuildImagesOptions {
  /** Statically linked busybox to package. Default /bin/busybox (Debian busybox-static). */
  busyboxPath?: string;
  /** Where cached archives live. Default `<tmpdir>/nodeagent-images-<busybox sha256 prefix>`. */
  cacheDir?: string;
}
/**
 * Build (or reuse from the cache) the pause and busybox OCI archives from the local busybox-static
 * binary. The cache key is busybox's sha256, so a busybox upgrade rebuilds and repeated test runs
 * only pay for a few stat() calls.
 */
export declare function buildImages(opts?: BuildImagesOptions): Promise<LocalImages>;
/**
 * Import archives into containerd's `k8s.io` namespace (the one the CRI plugin serves), over the
 * given containerd socket address.
 */
export declare function importImages(address: string, images: LocalImage[]): Promise<void>;
//# sourceMappingURL=build-images.d.ts.map
