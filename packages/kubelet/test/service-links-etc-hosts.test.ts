import { describe, expect, it } from 'vitest';
import { type ServiceLink, serviceEnvVarMap } from '../src/env/service-env';
import { stripServiceForLinks } from '../src/sources/api-service-lister';
import { managedHostsFileContent, nodeHostsFileContent } from '../src/sync/etc-hosts';

type Ports = NonNullable<NonNullable<ServiceLink['spec']>['ports']>;
const svc = (namespace: string, name: string, clusterIP: string, ports: Ports): ServiceLink => ({
  metadata: { name, namespace },
  spec: { clusterIP, ports },
});

describe('service link variables (upstream getServiceEnvVarMap / envvars.FromServices)', () => {
  const kubernetes = svc('default', 'kubernetes', '10.96.0.1', [
    { name: 'https', port: 443, protocol: 'TCP' },
  ]);

  it('names every variable as upstream, IPv6 addresses in brackets', () => {
    const env = serviceEnvVarMap([svc('ns', 'my-db', 'fd00::5', [{ port: 5432 }])], 'ns', true);
    expect(env).toEqual({
      MY_DB_SERVICE_HOST: 'fd00::5',
      MY_DB_SERVICE_PORT: '5432',
      MY_DB_PORT: 'tcp://[fd00::5]:5432',
      MY_DB_PORT_5432_TCP: 'tcp://[fd00::5]:5432',
      MY_DB_PORT_5432_TCP_PROTO: 'tcp',
      MY_DB_PORT_5432_TCP_PORT: '5432',
      MY_DB_PORT_5432_TCP_ADDR: 'fd00::5',
    });
  });

  it('skips headless and other namespaces, keeps the master service without links', () => {
    const services = [
      kubernetes,
      svc('ns', 'headless', 'None', [{ port: 80 }]),
      svc('other', 'elsewhere', '10.96.3.3', [{ port: 80 }]),
    ];
    expect(
      Object.keys(serviceEnvVarMap(services, 'ns', true)).every((k) => k.startsWith('KUBERNETES_')),
    ).toBe(true);
    expect(serviceEnvVarMap(services, 'ns', false)).toMatchObject({ KUBERNETES_SERVICE_HOST: '10.96.0.1' });
  });

  it("lets the pod namespace's own 'kubernetes' Service win over the master one", () => {
    const own = svc('ns', 'kubernetes', '10.96.9.9', [{ port: 80 }]);
    expect(serviceEnvVarMap([kubernetes, own], 'ns', true).KUBERNETES_SERVICE_HOST).toBe('10.96.9.9');
    expect(serviceEnvVarMap([own, kubernetes], 'ns', true).KUBERNETES_SERVICE_HOST).toBe('10.96.9.9');
  });

  it('the informer keeps only what the variables read', () => {
    const stripped = stripServiceForLinks({
      metadata: {
        name: 'a',
        namespace: 'b',
        resourceVersion: '7',
        labels: { x: 'y' },
        annotations: { big: 'z' },
      },
      spec: {
        clusterIP: '10.96.1.1',
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 } as never],
        selector: { app: 'a' },
      } as never,
    });
    expect(stripped).toEqual({
      metadata: { name: 'a', namespace: 'b', resourceVersion: '7', uid: undefined },
      spec: { clusterIP: '10.96.1.1', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
  });
});

describe('kubelet-managed hosts file (upstream managedHostsFileContent / nodeHostsFileContent)', () => {
  it('lists localhost, every pod IP with the FQDN first, then hostAliases', () => {
    expect(
      managedHostsFileContent(['10.1.0.5', 'fd00::5'], 'web-0', 'web.ns.svc.cluster.local', [
        { ip: '1.2.3.4', hostnames: ['a', 'b'] },
      ]),
    ).toBe(
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
        'fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n' +
        '10.1.0.5\tweb-0.web.ns.svc.cluster.local\tweb-0\nfd00::5\tweb-0.web.ns.svc.cluster.local\tweb-0\n' +
        '\n# Entries added by HostAliases.\n1.2.3.4\ta\tb\n',
    );
  });

  it("keeps the node's file for host-network pods", () => {
    expect(nodeHostsFileContent('127.0.0.1 localhost\n', [])).toBe(
      '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n',
    );
  });
});
