import type { IpvsHandle } from '@nodeagent/ipvs';
import type { IPFamily } from '../model/ip-family';
import type { IptablesExecutor } from '../shared/iptables-executor';

/**
 * The kernel layers the ipvs mode drives, as interfaces so unit tests run against fakes on a
 * kernel without IPVS (fake-ipvs-kernel.ts, @nodeagent/ipvs/testing) and real tests against the micro-VM.
 */

/**
 * The part of @nodeagent/ipvs's IpvsHandle the ipvs mode uses: its Ipvs (the kernel) and its
 * FakeIpvsHandle (`@nodeagent/ipvs/testing`) are what callers pass.
 */
export type IpvsTable = Pick<
  IpvsHandle,
  | 'listServices'
  | 'listDestinations'
  | 'addService'
  | 'updateService'
  | 'deleteService'
  | 'addDestination'
  | 'updateDestination'
  | 'deleteDestination'
  | 'setTimeouts'
  | 'flush'
>;

/** The kube-ipvs0 dummy interface and the node's addresses (rtnetlink). */
export interface LinkLayer {
  /** Creates the dummy interface unless it exists. */
  ensureDummy(name: string): Promise<void>;
  /** Whether an interface of this name exists. */
  linkExists(name: string): Promise<boolean>;
  /** Deletes the interface if it exists. */
  deleteLink(name: string): Promise<void>;
  /** Addresses (without prefix length) on the interface; empty if it does not exist. */
  listAddresses(name: string): Promise<string[]>;
  /** Binds host addresses (/32, /128); already bound ones are fine. */
  addAddresses(name: string, addresses: readonly string[]): Promise<void>;
  /** Unbinds addresses; ones not bound are fine. */
  deleteAddresses(name: string, addresses: readonly string[]): Promise<void>;
  /**
   * The node's addresses of one family on every interface but `exceptLink`, without loopback
   * and IPv6 link-local ones (NodePort virtual servers listen on these).
   */
  localAddresses(family: IPFamily, exceptLink: string): Promise<string[]>;
}

/** One set as `ipset save` shows it. */
export interface IpsetState {
  readonly type: string;
  readonly entries: Set<string>;
}

/** The ipset tool. */
export interface IpsetLayer {
  /** Every set in the kernel, by name. */
  save(): Promise<Map<string, IpsetState>>;
  /** `ipset restore -exist` of a script (create / add / del / flush / destroy lines), all or nothing per line. */
  restore(script: string): Promise<void>;
  /** Destroys the sets that exist among `names` (a set still referenced by iptables fails). */
  destroy(names: readonly string[]): Promise<void>;
}

/**
 * The part of an IptablesExecutor the ipvs mode uses: restores, and `iptables-save` to find the
 * jumps from built-in chains that are missing.
 */
export type IpvsIptables = Pick<IptablesExecutor, 'restore' | 'saveTable'>;
