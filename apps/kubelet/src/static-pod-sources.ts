import type { Kubelet, KubeletConfiguration, KubeletLogger } from '@nodeagent/kubelet';
import type { Pod } from '@nodeagent/kubelet/api';
import {
  HttpPodSource,
  isPodFromSource,
  type MirrorPodSync,
  StaticPodSource,
} from '@nodeagent/kubelet/sources';
import { parseDuration } from '@nodeagent/primitives';

/**
 * Starts the static pod sources the configuration names (staticPodPath, staticPodURL). Each hands
 * its full set to the kubelet; the mirror pods follow the union of both. Returns their stops.
 */
export async function startStaticPodSources(
  config: KubeletConfiguration,
  nodeName: string,
  kubelet: Kubelet,
  mirrorPods: MirrorPodSync | undefined,
  logger: KubeletLogger,
): Promise<(() => Promise<void> | void)[]> {
  const stops: (() => Promise<void> | void)[] = [];
  const staticPods = { file: [] as Pod[], http: [] as Pod[] };
  const setStaticPods = (source: 'file' | 'http', pods: Pod[]) => {
    staticPods[source] = pods;
    kubelet.setPods(pods, isPodFromSource(source));
    mirrorPods?.setStaticPods([...staticPods.file, ...staticPods.http]);
  };
  if (config.staticPodPath) {
    const source = new StaticPodSource({
      dir: config.staticPodPath,
      nodeName,
      checkFrequencyMs: parseDuration(config.fileCheckFrequency),
      onPods: (pods) => setStaticPods('file', pods),
      onError: ({ file, error }) =>
        logger.warn({ file }, `Could not process manifest file: ${error.message}`),
    });
    await source.start();
    stops.push(() => source.stop());
  }
  if (config.staticPodURL) {
    const source = new HttpPodSource({
      url: config.staticPodURL,
      headers: config.staticPodURLHeader,
      nodeName,
      checkFrequencyMs: parseDuration(config.httpCheckFrequency),
      onPods: (pods) => setStaticPods('http', pods),
      // Upstream logs the first three failures, then only at verbosity 4.
      onError: (error, failures) => {
        if (failures <= 3)
          logger.info(
            { err: error.message },
            failures === 3
              ? 'Failed to read pods from URL. Dropping verbosity of this message to V(4)'
              : 'Failed to read pods from URL',
          );
      },
      onRecovered: () => logger.info({}, 'Successfully read pods from URL'),
    });
    logger.info({ URL: config.staticPodURL }, 'Watching URL');
    await source.start();
    stops.push(() => source.stop());
  }
  return stops;
}
