import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import type { KubeletConfiguration } from '@nodeagent/kubelet';
import { parseDuration } from '@nodeagent/primitives';
import { criEndpointFailure } from './cri-endpoint-failure';

/** The CRI ImageService calls: what imageServiceEndpoint moves to another socket. */
const imageServiceMethods = new Set<PropertyKey>([
  'listImages',
  'imageStatus',
  'pullImage',
  'removeImage',
  'imageFsInfo',
]);

/**
 * imageServiceEndpoint: one client whose ImageService calls go to the image service's socket
 * and every RuntimeService call to the runtime's, as upstream dials the two endpoints apart.
 * close() closes both.
 */
export function splitImageService(runtime: CriClient, images: CriClient): CriClient {
  return new Proxy(runtime, {
    get(target, property, receiver) {
      if (imageServiceMethods.has(property)) {
        const method = Reflect.get(images, property) as (...args: unknown[]) => unknown;
        return method.bind(images);
      }
      if (property === 'close') {
        return () => {
          images.close();
          target.close();
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The CRI client for containerRuntimeEndpoint, with the ImageService on imageServiceEndpoint
 * when that is set to another socket. A socket that cannot be used stops the kubelet naming its
 * setting (criEndpointFailure).
 */
export async function connectCri(
  config: Pick<
    KubeletConfiguration,
    'containerRuntimeEndpoint' | 'imageServiceEndpoint' | 'runtimeRequestTimeout'
  >,
): Promise<CriClient> {
  const timeoutMs = parseDuration(config.runtimeRequestTimeout);
  const runtime = await createCriClient({ endpoint: config.containerRuntimeEndpoint, timeoutMs }).catch(
    async (error: unknown) => {
      throw await criEndpointFailure('containerRuntimeEndpoint', config.containerRuntimeEndpoint, error);
    },
  );
  if (config.imageServiceEndpoint === '' || config.imageServiceEndpoint === config.containerRuntimeEndpoint)
    return runtime;
  const images = await createCriClient({ endpoint: config.imageServiceEndpoint, timeoutMs }).catch(
    async (error: unknown) => {
      runtime.close();
      throw await criEndpointFailure('imageServiceEndpoint', config.imageServiceEndpoint, error);
    },
  );
  return splitImageService(runtime, images);
}
