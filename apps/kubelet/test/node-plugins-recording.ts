import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Upstream v1.36's recorded run with device plugins, DRA and CSI drivers. */
const recording = join(__dirname, '../../../fidelity/node-plugins-v1.36');

/** The line of upstream's recorded outcome for `name`, after "PASS <name>: ". */
export async function upstreamCase(name: string): Promise<string> {
  const line = (await readFile(join(recording, 'cases-upstream.txt'), 'utf8'))
    .split('\n')
    .find((l) => l.startsWith(`PASS ${name}:`));
  return line!.slice(`PASS ${name}: `.length);
}

/** The lines of the pod-resources API answers upstream's kubelet gave (formatPodResourcesAnswers). */
export async function recordedPodResourcesAnswers(): Promise<string[]> {
  return (await readFile(join(recording, 'pod-resources-answers.txt'), 'utf8')).split('\n');
}
