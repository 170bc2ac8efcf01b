import { readFileSync } from 'node:fs';
import {
  cleanupLeftovers,
  formatSettingProblem,
  InvalidConfigurationError,
  InvalidFieldError,
  type IPFamily,
  ipFamilyOf,
  UnsupportedSettingsError,
} from '@nodeagent/kube-proxy';
import { explainIptablesService, formatServiceExplanation } from '@nodeagent/kube-proxy/iptables';
import {
  type ClosableIpvsTable,
  formatIpvsTable,
  isIpvsUnavailable,
  openIpvsTable,
  readIpvsTable,
  rtnetlinkLinkLayer,
} from '@nodeagent/kube-proxy/ipvs';
import { explainNftablesService, NFTABLES_TABLE } from '@nodeagent/kube-proxy/nftables';
import { isCodedError, localRunner, runChecked } from '@nodeagent/primitives';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { checkSettings, daemonLogger } from './daemon-settings';
import { parseGoBool } from './flag-values';
import { addConfigFlags, CONFIG_FLAGS, optionName } from './flags';
import { setupNode } from './node-setup';
import { readObjects } from './read-objects';
import { renderRuleset } from './render';
import { resolveConfiguration } from './resolve-configuration';
import { familiesFor, nodeNameFor, type RunningProxy, runProxy } from './run-proxy';
import { rawVersionText, versionText } from './version';
import { writeFileFor } from './writable-file';

export interface ProgramIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => string;
  readStdin: () => string;
  /** Called with the running daemon so the caller can stop it (signals, tests). */
  onStarted?: (proxy: RunningProxy) => void;
}

const defaultIO: ProgramIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: (p) => readFileSync(p, 'utf8'),
  readStdin: () => readFileSync(0, 'utf8'),
};

/** Every nodeagent error (kube-proxy's own, a failed command, netfilter, IPVS) has a code and a full message. */
function errorMessage(err: unknown): string {
  return isCodedError(err) ? err.message : ((err as Error)?.message ?? String(err));
}

/**
 * One line per problem, naming the flag or field; a stack trace only at -v=4 and above (an
 * operator's mistake is not a bug in this program).
 */
function reportError(io: ProgramIO, err: unknown, verbosity = 0): number {
  if (err instanceof InvalidConfigurationError) {
    for (const e of err.errors) io.stderr(`invalid configuration: ${e.message}\n`);
    return 1;
  }
  if (err instanceof UnsupportedSettingsError) {
    for (const p of err.problems) io.stderr(`unsupported setting: ${formatSettingProblem(p)}\n`);
    return 1;
  }
  io.stderr(`error: ${errorMessage(err)}\n`);
  if (verbosity >= 4 && (err as Error)?.stack) io.stderr(`${(err as Error).stack}\n`);
  return 1;
}

/** commander's usage errors on one line: its "(Did you mean …?)" hint joins the error's line. */
function oneLine(text: string, write: (text: string) => void): void {
  write(
    `${text
      .trimEnd()
      .replace(/\n\(Did you mean (.+)\?\)$/, ' (did you mean $1?)')
      .replace(/\n/g, ' ')}\n`,
  );
}

/** pflag's deprecation notice verbatim ("Flag --x has been deprecated, …"); ours prefixed "warning: ". */
function warningLine(w: string): string {
  return w.startsWith('Flag --') ? `${w}\n` : `warning: ${w}\n`;
}

/** A bool flag that is not a configuration field (--cleanup, --init-only), read as pflag reads it. */
function boolFlag(opts: Record<string, unknown>, flag: string): boolean {
  const raw = opts[optionName(flag)];
  if (raw === undefined || raw === true) return raw === true;
  const b = parseGoBool(String(raw));
  if (b === undefined) throw new InvalidFieldError(`--${flag}`, raw, 'not a boolean (true or false)');
  return b;
}

/** -v as given on the command line (for how much an error report shows), 0 when absent or bad. */
function verbosityOf(opts: Record<string, unknown>): number {
  const raw = typeof opts.v === 'string' ? opts.v.replace(/^=/, '') : '';
  return /^\d+$/.test(raw) ? Number(raw) : 0;
}

/** The nodeagent-kube-proxy command line. `exitCode` on the returned command holds the outcome. */
export function buildProgram(overrides: Partial<ProgramIO> = {}): Command & { exitCode?: number } {
  const io: ProgramIO = { ...defaultIO, ...overrides };
  const program = new Command('nodeagent-kube-proxy') as Command & { exitCode?: number };
  program
    .description('Kubernetes network proxy: programs Service rules from Services and EndpointSlices')
    .enablePositionalOptions()
    .helpOption('-h, --help', 'help for kube-proxy')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: oneLine });
  addConfigFlags(program);
  program.action((opts: Record<string, unknown>) => runRootCommand(program, io, opts));
  program.addCommand(renderCommand(program, io));
  program.addCommand(explainCommand(program, io));
  return program;
}

/** The root command: --version, --write-config-to, --cleanup, --init-only, or the daemon. */
async function runRootCommand(
  program: Command & { exitCode?: number },
  io: ProgramIO,
  opts: Record<string, unknown>,
): Promise<void> {
  const given = (name: string) => program.getOptionValueSource(name) === 'cli';
  try {
    const version = opts.version === undefined ? undefined : String(opts.version);
    if (version !== undefined && version !== 'false') {
      if (version === 'raw') io.stdout(`${rawVersionText('nodeagent-kube-proxy')}\n`);
      else if (parseGoBool(version) === true) io.stdout(`${versionText()}\n`);
      else throw new InvalidFieldError('--version', version, 'must be true, false or raw');
      program.exitCode = 0;
      return;
    }
    const resolved = resolveConfiguration({
      configPath: opts.config as string | undefined,
      opts,
      givenOnCommandLine: given,
      readFile: io.readFile,
    });
    for (const w of resolved.warnings) io.stderr(warningLine(w));
    const config = resolved.config;
    if (opts.writeConfigTo) {
      writeFileFor('--write-config-to', opts.writeConfigTo as string, stringify(config));
      program.exitCode = 0;
      return;
    }
    if (boolFlag(opts, 'cleanup')) {
      await cleanupAll(io);
      program.exitCode = 0;
      return;
    }
    const log = daemonLogger(config);
    checkSettings(config, log);
    if (boolFlag(opts, 'init-only')) {
      await setupNode(config, log);
      program.exitCode = 0;
      return;
    }
    const proxy = await runProxy(config, log, { master: opts.master as string | undefined });
    io.onStarted?.(proxy);
    program.exitCode = 0;
  } catch (err) {
    program.exitCode = reportError(io, err, verbosityOf(opts));
  }
}

/**
 * --cleanup: whatever any mode left (cleanupLeftovers). As upstream, a failing step does not
 * stop the others; each failure is reported and the exit code is 1.
 */
async function cleanupAll(io: ProgramIO): Promise<void> {
  const ipvs = await openIpvsIfAvailable();
  const link = rtnetlinkLinkLayer();
  let r: Awaited<ReturnType<typeof cleanupLeftovers>>;
  try {
    r = await cleanupLeftovers({ runner: localRunner, ipvs, link });
  } finally {
    ipvs?.close();
    link.close();
  }
  for (const err of r.errors) io.stderr(`error: ${errorMessage(err)}\n`);
  if (r.ipvs)
    io.stderr(
      `cleanup: ipvs mode: removed ${r.ipvs.deletedServices} IPVS services, ${r.ipvs.destroyedIpsets} ipsets${r.ipvs.deletedInterface ? ', kube-ipvs0' : ''}\n`,
    );
  io.stderr(`cleanup: removed ${r.deletedChains} iptables chains and the kube-proxy nftables tables\n`);
  if (r.errors.length > 0) throw new Error('encountered an error while tearing down rules');
}

/** `render`: the rules for Services/EndpointSlices given as YAML, touching no kernel. */
function renderCommand(program: Command & { exitCode?: number }, io: ProgramIO): Command {
  const render = new Command('render')
    .description(
      'print the rules for Services/EndpointSlices given as YAML (files or stdin), touching no kernel',
    )
    .argument(
      '[files...]',
      'YAML or JSON files with Services, EndpointSlices and optionally the Node ("-" = stdin)',
    )
    .option('--config <path>', 'path to a KubeProxyConfiguration file')
    .option('--node-ip <ips>', 'comma-separated node IPs')
    .option('--ip-family <family>', 'IPv4, IPv6 or dual (default: from --cluster-cidr, else IPv4)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: oneLine });
  addConfigFlags(render, CONFIG_FLAGS);
  render.action((files: string[], opts: Record<string, unknown>) => {
    try {
      const { config, warnings } = resolveConfiguration({
        configPath: opts.config as string | undefined,
        opts,
        givenOnCommandLine: (name) => render.getOptionValueSource(name) === 'cli',
        readFile: io.readFile,
      });
      for (const w of warnings) io.stderr(warningLine(w));
      const inputs = files.length === 0 ? ['-'] : files;
      const objects = { services: [], endpointSlices: [], nodes: [] } as ReturnType<typeof readObjects>;
      for (const f of inputs) {
        const o = readObjects(f === '-' ? io.readStdin() : io.readFile(f), f);
        objects.services.push(...o.services);
        objects.endpointSlices.push(...o.endpointSlices);
        objects.nodes.push(...o.nodes);
      }
      const fam = opts.ipFamily as string | undefined;
      let families: IPFamily[];
      if (fam === undefined) families = familiesFor(config);
      else if (fam === 'IPv4' || fam === 'IPv6') families = [fam];
      else if (fam === 'dual') families = ['IPv4', 'IPv6'];
      else throw new InvalidFieldError('--ip-family', fam, 'must be IPv4, IPv6 or dual');
      io.stdout(
        renderRuleset(objects, {
          config,
          nodeName: nodeNameFor(config),
          families,
          nodeIPs: opts.nodeIp
            ? String(opts.nodeIp)
                .split(',')
                .map((s) => s.trim())
            : undefined,
        }),
      );
      program.exitCode = 0;
    } catch (err) {
      program.exitCode = reportError(io, err);
    }
  });
  return render;
}

/** `explain`: one Service's rules in the live kernel (or a saved dump); ipvs mode: the IPVS table. */
function explainCommand(program: Command & { exitCode?: number }, io: ProgramIO): Command {
  const explain = new Command('explain')
    .description(
      "show one Service's rules in the live kernel (chains, entry rules, endpoints they DNAT to); ipvs mode: the live IPVS table",
    )
    .argument('<service>', 'namespace/name (ipvs mode: a virtual server address, or "all")')
    .option('--ip-family <family>', 'IPv4 or IPv6', 'IPv4')
    .option('--proxy-mode <mode>', 'iptables, nftables or ipvs', 'iptables')
    .option(
      '--from-file <path>',
      'read iptables-save (or `nft list table`) output from a file instead of the kernel',
    )
    .option('--json', 'print the explanation as JSON')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: oneLine });
  explain.action(
    async (svc: string, opts: { ipFamily: string; proxyMode: string; fromFile?: string; json?: boolean }) => {
      try {
        if (opts.proxyMode === 'ipvs') {
          io.stdout(await explainIpvs(svc, opts.json === true));
          program.exitCode = 0;
          return;
        }
        if (!/^[^/\s]+\/[^/\s]+$/.test(svc))
          throw new InvalidFieldError('service', svc, 'must be namespace/name');
        if (opts.ipFamily !== 'IPv4' && opts.ipFamily !== 'IPv6') {
          throw new InvalidFieldError('--ip-family', opts.ipFamily, 'must be IPv4 or IPv6');
        }
        if (opts.proxyMode !== 'iptables' && opts.proxyMode !== 'nftables') {
          throw new InvalidFieldError(
            '--proxy-mode',
            opts.proxyMode,
            'explain supports iptables, nftables and ipvs',
          );
        }
        const v6 = opts.ipFamily === 'IPv6';
        let e: ReturnType<typeof explainIptablesService>;
        if (opts.proxyMode === 'nftables') {
          const text = opts.fromFile
            ? io.readFile(opts.fromFile)
            : await runChecked(['nft', 'list', 'table', v6 ? 'ip6' : 'ip', NFTABLES_TABLE]);
          e = explainNftablesService(text, svc);
        } else {
          const save = opts.fromFile
            ? io.readFile(opts.fromFile)
            : await runChecked([v6 ? 'ip6tables-save' : 'iptables-save']);
          e = explainIptablesService(save, svc);
        }
        io.stdout(opts.json ? `${JSON.stringify(e, null, 2)}\n` : formatServiceExplanation(e));
        program.exitCode = 0;
      } catch (err) {
        program.exitCode = reportError(io, err);
      }
    },
  );
  return explain;
}

/** The IPVS table for --cleanup; none on a kernel without IPVS (no virtual servers to delete). */
async function openIpvsIfAvailable(): Promise<ClosableIpvsTable | undefined> {
  try {
    return await openIpvsTable();
  } catch (err) {
    if (!isIpvsUnavailable(err)) throw err;
    return undefined;
  }
}

/** `explain --proxy-mode ipvs <address|all>`: the live IPVS table, like `ipvsadm -Ln`. */
async function explainIpvs(address: string, json: boolean): Promise<string> {
  if (address !== 'all' && ipFamilyOf(address) === undefined)
    throw new InvalidFieldError('address', address, 'ipvs mode explains a virtual server address or "all"');
  const ipvs = await openIpvsTable();
  try {
    const table = await readIpvsTable(ipvs, address === 'all' ? undefined : address);
    return json
      ? `${JSON.stringify(table, (_k, v) => (typeof v === 'bigint' ? String(v) : v), 2)}\n`
      : formatIpvsTable(table);
  } finally {
    ipvs.close();
  }
}
