import type { MessageInit } from './message-init';
import { PluginConnection } from './plugin-connection';
import { type PluginInfo, type RegistrationStatus, registrationV1Service } from './registration-v1';

/**
 * Upstream's plugin manager deadlines (pkg/kubelet/pluginmanager/operationexecutor): GetInfo 1 s,
 * NotifyRegistrationStatus 5 s. (Its 10 s dial timeout has no counterpart here: grpc-js fails a
 * call at once when the socket refuses, and the call's deadline bounds the rest.)
 */
export const GET_INFO_TIMEOUT_MS = 1_000;
/** NotifyRegistrationStatus's deadline (see GET_INFO_TIMEOUT_MS). */
export const NOTIFY_TIMEOUT_MS = 5_000;

/**
 * The kubelet's side of the plugin registration API v1 on one plugin's registration socket.
 * Failed calls are PluginCallError.
 */
export class RegistrationV1Client {
  private readonly connection: PluginConnection;

  /** `socketPath`: the plugin's socket under `<root-dir>/plugins_registry/`. */
  constructor(socketPath: string) {
    this.connection = new PluginConnection(socketPath);
  }

  /** Asks the plugin who it is. */
  getInfo(timeoutMs = GET_INFO_TIMEOUT_MS): Promise<PluginInfo> {
    return this.connection.unary(registrationV1Service.GetInfo, {}, timeoutMs);
  }

  /** Tells the plugin whether it is registered, and why not. */
  async notifyRegistrationStatus(
    registrationStatus: MessageInit<RegistrationStatus>,
    timeoutMs = NOTIFY_TIMEOUT_MS,
  ): Promise<void> {
    await this.connection.unary(
      registrationV1Service.NotifyRegistrationStatus,
      registrationStatus,
      timeoutMs,
    );
  }

  /** Closes the connection to the plugin's socket. */
  close(): void {
    this.connection.close();
  }
}
