/**
 * The node-in-a-box end-to-end suites, one after another in this one test file: each run takes
 * the machine-wide demo lock (a second run at the same time exits 2) and most of a small
 * machine's CPU, so they must not overlap. One file keeps them apart while every other test file
 * runs beside them; the project's `fileParallelism: false` did that too, but vitest runs such a
 * project alone after every other file, which left one core idle for the whole demo tier.
 * The runs share one bundle of each agent, made before the first (shareAgentBundles).
 */
import { shareAgentBundles } from './start-demo';
import './demo.suite';
import './multi-node.suite';
import './scenarios.suite';

shareAgentBundles();
