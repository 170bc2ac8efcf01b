import { rmSync } from 'node:fs';
import { sweepBundles } from './bundle-entry';
import { createRunCache, RUN_CACHE_ENV } from './run-cache';

/**
 * Vitest globalSetup: makes the run's cache of shared builds (tools/bundle/run-cache.ts), named to
 * the workers in its variable; at the run's end removes it and the bundles the workers left behind.
 */
export default function setup(): () => void {
  const cache = createRunCache();
  process.env[RUN_CACHE_ENV] = cache;
  return () => {
    rmSync(cache, { recursive: true, force: true });
    delete process.env[RUN_CACHE_ENV];
    sweepBundles();
  };
}
