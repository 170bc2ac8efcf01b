import { type FSWatcher, mkdirSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { MessageInit } from '@nodeagent/plugin-api';
import {
  type ContainerAllocateResponse,
  type DevicePluginV1beta1Server,
  devicePluginRegistrationV1beta1Service,
  devicePluginV1beta1Service,
  type Empty,
  type ListAndWatchResponse,
} from '@nodeagent/plugin-api/deviceplugin';

/** One device the plugin offers; `numaNode` becomes its topology. */
export interface SampleDevice {
  id: string;
  health: 'Healthy' | 'Unhealthy';
  numaNode?: number;
}

/** What the plugin adds to each container's AllocateResponse beyond the device files it mounts. */
export interface SampleAllocateExtras {
  envs?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Host device nodes handed to the container (DeviceSpec). */
  deviceNodes?: { containerPath: string; hostPath: string; permissions: string }[];
  cdiDevices?: string[];
}

/** What a SampleDevicePlugin is started with. */
export interface SampleDevicePluginOptions {
  /** The kubelet's `<root-dir>/device-plugins` directory (its kubelet.sock and the plugin's socket). */
  pluginDir: string;
  /** Where the device files are created (one regular file a device, named by its ID). */
  deviceDir: string;
  /** Default example.com/resource, as upstream's sample device plugin. */
  resourceName?: string;
  /** Default Dev-1 and Dev-2, both healthy. */
  devices?: SampleDevice[];
  /** The plugin's socket name under pluginDir (default `dp.<pid>.<n>.sock`). */
  socketName?: string;
  /** Where each device file appears in the container (default `/tmp/<id>`, as upstream's sample mounts it). */
  containerDir?: string;
  preStartRequired?: boolean;
  /** When set, the plugin answers GetPreferredAllocation with the devices in this order. */
  preferred?: string[];
  extras?: SampleAllocateExtras;
  /** Re-register when the kubelet's socket is created again (a kubelet restart), as upstream's sample does. */
  watchKubeletSocket?: boolean;
  /**
   * Whether start() registers through the kubelet's kubelet.sock (default true); false only serves
   * the plugin's socket, for registration through `plugins_registry` (a registrar of type
   * `DevicePlugin`).
   */
  registerWithKubelet?: boolean;
}

let socketSequence = 0;

/**
 * A device plugin of the project's own, shaped after upstream's test/images/sample-device-plugin:
 * real gRPC (v1beta1) over unix sockets; it registers with the kubelet, streams its devices on
 * ListAndWatch, creates a file for each device under `deviceDir` and answers Allocate with
 * those files mounted at `/tmp/<id>`. `log` records what the kubelet called, in the words of
 * upstream's stub.go log. Faults: `setHealth` (a ListAndWatch update), `dieOnNextAllocate`
 * (the server goes away while the kubelet waits), `stop` and `restart`.
 */
export class SampleDevicePlugin {
  readonly resourceName: string;
  readonly socketName: string;
  readonly socketPath: string;
  /** The calls the kubelet made, in stub.go's words (`Register`, `ListAndWatch`, `Allocate request=...`). */
  readonly log: string[] = [];
  /** Each Allocate's device IDs, per container request. */
  readonly allocations: string[][] = [];
  private devices: SampleDevice[];
  private server: grpc.Server | undefined;
  private readonly streams = new Set<grpc.ServerWritableStream<Empty, MessageInit<ListAndWatchResponse>>>();
  private watcher: FSWatcher | undefined;
  private dieOnAllocate = false;
  private restarting: Promise<void> = Promise.resolve();
  /** The kubelet socket registered with last (inode and change time: inodes are reused), so one new socket means one restart. */
  private registeredInode: string | undefined;

  constructor(private readonly options: SampleDevicePluginOptions) {
    this.resourceName = options.resourceName ?? 'example.com/resource';
    this.devices = (
      options.devices ?? [
        { id: 'Dev-1', health: 'Healthy' },
        { id: 'Dev-2', health: 'Healthy' },
      ]
    ).map((device) => ({ ...device }));
    this.socketName = options.socketName ?? `dp.${process.pid}.${++socketSequence}.sock`;
    this.socketPath = join(options.pluginDir, this.socketName);
  }

  /** Each device's file on the host. */
  deviceFile(id: string): string {
    return join(this.options.deviceDir, id);
  }

  /** Serves the plugin's socket and registers with the kubelet (upstream's Start then Register). */
  async start(): Promise<void> {
    mkdirSync(this.options.deviceDir, { recursive: true });
    for (const device of this.devices) writeFileSync(this.deviceFile(device.id), `${device.id}\n`);
    await this.serve();
    if (this.options.registerWithKubelet === false) return;
    this.registeredInode = this.kubeletSocketInode();
    await this.register();
    if (this.options.watchKubeletSocket && !this.watcher) {
      // fs.watch is inotify on Linux: the kubelet's socket being created again means a new kubelet.
      this.watcher = watch(this.options.pluginDir, (_event, name) => {
        if (name !== 'kubelet.sock') return;
        // inotify reports the old socket's removal and the new one's creation: restart once a new socket.
        const inode = this.kubeletSocketInode();
        if (inode === undefined || inode === this.registeredInode) return;
        this.registeredInode = inode;
        this.log.push('inotify: kubelet.sock created, restarting.');
        // One restart at a time: inotify may report the socket's removal and creation together.
        this.restarting = this.restarting
          .then(() => this.restart())
          .catch((error: Error) => {
            this.log.push(`restart failed: ${error.message}`);
          });
      });
    }
  }

  private kubeletSocketInode(): string | undefined {
    try {
      const stat = statSync(join(this.options.pluginDir, 'kubelet.sock'), { bigint: true });
      return `${stat.ino}:${stat.ctimeNs}`;
    } catch {
      return undefined;
    }
  }

  /**
   * Stops serving and registers again (what upstream's sample does when kubelet.sock is created);
   * a refused Register is tried again a few times (a kubelet still starting), each failure logged.
   */
  async restart(): Promise<void> {
    this.stopServer();
    await this.serve();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.register();
        return;
      } catch (error) {
        this.log.push(`Register failed: ${(error as Error).message}`);
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  private async serve(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    const server = new grpc.Server();
    const handlers: DevicePluginV1beta1Server = {
      GetDevicePluginOptions: (_call, callback) =>
        callback(null, {
          preStartRequired: this.options.preStartRequired ?? false,
          getPreferredAllocationAvailable: this.options.preferred !== undefined,
        }),
      ListAndWatch: (call) => {
        this.log.push('ListAndWatch');
        this.streams.add(call);
        call.on('cancelled', () => this.streams.delete(call));
        call.write(this.listResponse());
      },
      GetPreferredAllocation: (call, callback) => {
        this.log.push('GetPreferredAllocation');
        callback(null, {
          containerResponses: call.request.containerRequests.map((request) => ({
            deviceIDs: (this.options.preferred ?? [])
              .filter((id) => request.availableDeviceIDs.includes(id))
              .slice(0, request.allocationSize),
          })),
        });
      },
      Allocate: (call, callback) => {
        const requests = call.request.containerRequests;
        this.log.push(
          `Allocate request="${requests.map((r) => `container_requests:{${r.devicesIds.map((id) => `devices_ids:\\"${id}\\"`).join(' ')}}`).join(' ')}"`,
        );
        if (this.dieOnAllocate) {
          // The plugin dies with the kubelet's call in flight: no answer, the socket gone.
          this.dieOnAllocate = false;
          this.stopServer();
          return;
        }
        for (const request of requests) this.allocations.push([...request.devicesIds]);
        callback(null, {
          containerResponses: requests.map((request) => this.containerResponse(request.devicesIds)),
        });
      },
      PreStartContainer: (call, callback) => {
        this.log.push(`PreStartContainer devices=${call.request.devicesIds.join(',')}`);
        callback(null, {});
      },
    };
    server.addService(devicePluginV1beta1Service, handlers);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${this.socketPath}`, grpc.ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    this.server = server;
  }

  private containerResponse(ids: readonly string[]): MessageInit<ContainerAllocateResponse> {
    const containerDir = this.options.containerDir ?? '/tmp';
    const extras = this.options.extras ?? {};
    return {
      envs: extras.envs ?? {},
      annotations: extras.annotations ?? {},
      mounts: ids.map((id) => ({
        containerPath: `${containerDir}/${id}`,
        hostPath: this.deviceFile(id),
        readOnly: false,
      })),
      devices: extras.deviceNodes ?? [],
      cdiDevices: (extras.cdiDevices ?? []).map((name) => ({ name })),
    };
  }

  private listResponse(): MessageInit<ListAndWatchResponse> {
    return {
      devices: this.devices.map((device) => ({
        ID: device.id,
        health: device.health,
        ...(device.numaNode === undefined ? {} : { topology: { nodes: [{ ID: device.numaNode }] } }),
      })),
    };
  }

  /** Upstream's Register: a RegisterRequest on the kubelet's socket. */
  async register(): Promise<void> {
    const Client = grpc.makeGenericClientConstructor(devicePluginRegistrationV1beta1Service, 'Registration');
    const client = new Client(
      `unix://${join(this.options.pluginDir, 'kubelet.sock')}`,
      grpc.credentials.createInsecure(),
    );
    this.log.push('Register');
    try {
      await new Promise<void>((resolve, reject) =>
        (client as unknown as { Register: (r: object, cb: (e: Error | null) => void) => void }).Register(
          {
            version: 'v1beta1',
            endpoint: this.socketName,
            resourceName: this.resourceName,
            options: {
              preStartRequired: this.options.preStartRequired ?? false,
              getPreferredAllocationAvailable: this.options.preferred !== undefined,
            },
          },
          (error) => (error ? reject(error) : resolve()),
        ),
      );
    } finally {
      client.close();
    }
    this.log.push('Device Plugin registered with the Kubelet');
  }

  /** A device turns healthy or unhealthy: every ListAndWatch stream gets the new list. */
  setHealth(id: string, health: SampleDevice['health']): void {
    const device = this.devices.find((d) => d.id === id);
    if (!device) throw new Error(`no device ${id}`);
    device.health = health;
    for (const stream of this.streams) stream.write(this.listResponse());
  }

  /** The next Allocate finds the plugin dying: no answer, the server and socket gone. */
  dieOnNextAllocate(): void {
    this.dieOnAllocate = true;
  }

  private stopServer(): void {
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    this.server?.forceShutdown();
    this.server = undefined;
    rmSync(this.socketPath, { force: true });
  }

  /** Stops serving (the kubelet sees ListAndWatch end) and stops watching. */
  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.stopServer();
  }
}
