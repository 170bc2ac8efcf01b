import type { PluginInfo } from '@nodeagent/plugin-api';
import { UnaryClient } from './unary-client';

/** What a plugin's registration socket answers to GetInfo (the registration API's PluginInfo). */
export type { PluginInfo };

/**
 * Upstream's plugin manager deadlines (pkg/kubelet/pluginmanager/operationexecutor): GetInfo 1 s,
 * NotifyRegistrationStatus 5 s. (Its 10 s dial timeout has no counterpart here: grpc-js fails a
 * call at once when the socket refuses, and the call's deadline bounds the rest.)
 */
export const GET_INFO_TIMEOUT_MS = 1_000;
/** NotifyRegistrationStatus's deadline (see GET_INFO_TIMEOUT_MS). */
export const NOTIFY_TIMEOUT_MS = 5_000;

/** The kubelet's side of the plugin registration API (pluginregistration.Registration). */
export class RegistrationClient {
  private readonly unary: UnaryClient;

  constructor(socketPath: string) {
    this.unary = new UnaryClient(socketPath, ['pluginregistration.Registration']);
  }

  /** Ask the plugin who it is. */
  getInfo(timeoutMs = GET_INFO_TIMEOUT_MS): Promise<PluginInfo> {
    return this.unary.call('GetInfo', {}, timeoutMs);
  }

  /** Tell the plugin whether it is registered, and why not. */
  async notifyRegistrationStatus(
    status: { pluginRegistered: boolean; error: string },
    timeoutMs = NOTIFY_TIMEOUT_MS,
  ): Promise<void> {
    await this.unary.call('NotifyRegistrationStatus', status, timeoutMs);
  }

  /** Closes the connection to the plugin's socket. */
  close(): void {
    this.unary.close();
  }
}
