import { sweepBundles } from './bundle-entry';

/** Vitest globalSetup: at the run's end, the bundles its workers left behind are removed. */
export default function setup(): () => void {
  return () => {
    sweepBundles();
  };
}
