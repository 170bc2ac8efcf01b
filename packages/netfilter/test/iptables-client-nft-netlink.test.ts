import { type CommandRunner, InputAbortedError, isStreamedInput } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { IptablesClient } from '../src/index';
import { splitForNetlink, splitPiecesForNetlink } from '../src/iptables/nft-netlink-restore';
import type { NfnetlinkChannel } from '../src/nftables/netlink/channel';

// IptablesClient's full restores over netlink without a kernel (test/real/iptables-nft-wire.test.ts
// and kube-proxy's iptables-nft-netlink-full-sync.test.ts hold them against one): what goes to the
// tool instead, and that nothing reaches the channel then.

function recordingRunner() {
  const sent: { file: string; text: string }[] = [];
  const runner: CommandRunner = {
    async run(file, _args, options = {}) {
      let text = '';
      if (isStreamedInput(options.input)) for await (const c of options.input) text += c.toString();
      else text = options.input?.toString() ?? '';
      sent.push({ file, text });
      return { stdout: '', stderr: '', exitCode: 0 };
    },
  };
  return { runner, sent };
}

/** A channel that fails the test if anything is sent on it. */
function silentChannel(log: string[]): NfnetlinkChannel {
  return {
    async send() {
      log.push('send');
      throw new Error('nothing may be sent');
    },
    onDatagram() {},
    onFailure() {},
    ackCapacity: 1000,
    maxDatagram: 0,
    setActive() {},
    close() {
      log.push('close');
    },
  };
}

async function* chunks(parts: readonly string[]) {
  for (const p of parts) yield p;
}

const expected = { chains: 1, rules: 1, builtinRules: 0 };

describe('IptablesClient full restores over netlink', () => {
  it('sends a payload the writer refuses to iptables-restore whole, naming the reason, opening no socket', async () => {
    const { runner, sent } = recordingRunner();
    const channel: string[] = [];
    const fallbacks: string[] = [];
    let openings = 0;
    const client = new IptablesClient({
      runner,
      backend: 'nft',
      nftNetlink: {
        openChannel: async () => {
          openings++;
          return silentChannel(channel);
        },
        onFallback: (reason) => fallbacks.push(reason),
      },
    });
    const payload = [
      '*nat\n:KUBE-SVC-R - [0:0]\n',
      '-A KUBE-SVC-R -m recent --name KUBE-SEP-R --rcheck --seconds 10800 --reap -j RETURN\nCOMMIT\n',
    ];
    const tail = '*nat\n-I PREROUTING -j KUBE-SVC-R\nCOMMIT\n';
    const result = await client.restoreStream(chunks(payload), { expected, unwidenedTail: () => tail });
    expect(result.strategy).toBe('noflush');
    expect(fallbacks).toEqual(['match recent']);
    // Refused while encoding, before a socket is opened.
    expect(openings).toBe(0);
    expect(channel).toEqual([]);
    expect(sent).toEqual([{ file: 'iptables-nft-restore', text: payload.join('') + tail }]);
  });

  it('leaves a payload expected to declare fewer than minChains chains to the tool, opening no socket', async () => {
    const { runner, sent } = recordingRunner();
    let opened = 0;
    const fallbacks: string[] = [];
    const client = new IptablesClient({
      runner,
      backend: 'nft',
      nftNetlink: {
        minChains: 2,
        openChannel: async () => {
          opened++;
          return silentChannel([]);
        },
        onFallback: (reason) => fallbacks.push(reason),
      },
    });
    const payload = ['*nat\n:KUBE-SVC-A - [0:0]\n-A KUBE-SVC-A -j RETURN\nCOMMIT\n'];
    await client.restoreStream(chunks(payload), { expected });
    expect(opened).toBe(0);
    expect(fallbacks).toEqual([]);
    expect(sent).toEqual([{ file: 'iptables-nft-restore', text: payload.join('') }]);
  });

  it('falls back when no socket opens, and keeps the legacy back end and unsized streams on the tool', async () => {
    for (const backend of ['nft', 'legacy'] as const) {
      const { runner, sent } = recordingRunner();
      const fallbacks: string[] = [];
      const client = new IptablesClient({
        runner,
        backend,
        nftNetlink: {
          openChannel: async () => {
            throw new Error('no netlink addon');
          },
          onFallback: (reason) => fallbacks.push(reason),
        },
      });
      await client.restoreStream(chunks(['*nat\n:A - [0:0]\nCOMMIT\n']), { expected });
      await client.restoreStream(chunks(['*nat\n:B - [0:0]\nCOMMIT\n']));
      expect(sent.map((s) => s.text)).toEqual(['*nat\n:A - [0:0]\nCOMMIT\n', '*nat\n:B - [0:0]\nCOMMIT\n']);
      expect(fallbacks).toEqual(backend === 'nft' ? ['netlink socket unavailable'] : []);
    }
  });

  it('a producer failing before the end sends nothing anywhere (InputAbortedError)', async () => {
    const { runner, sent } = recordingRunner();
    const channel: string[] = [];
    const client = new IptablesClient({
      runner,
      backend: 'nft',
      nftNetlink: { openChannel: async () => silentChannel(channel) },
    });
    async function* failing() {
      yield '*nat\n:A - [0:0]\n';
      throw new Error('render failed');
    }
    const err = await client.restoreStream(failing(), { expected }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputAbortedError);
    expect(sent).toEqual([]);
    expect(channel).toEqual([]);
  });

  it('splits off the sections that insert or delete single rules, in order', () => {
    const main = '*nat\n:A - [0:0]\n-A A -j RETURN\nCOMMIT\n';
    expect(splitForNetlink(main)).toEqual({ netlink: main, tool: '' });
    const jumps = '*filter\n-D INPUT -j A\n-I INPUT -j B\nCOMMIT\n';
    const other = '*mangle\n:M - [0:0]\nCOMMIT\n';
    expect(splitForNetlink(main + jumps + other)).toEqual({ netlink: main + other, tool: jumps });
  });

  it('keeps a streamed payload in its pieces unless one inserts or deletes single rules', () => {
    const main = ['*nat\n:A - [0:0]\n', '-A A -j RETURN\n', 'COMMIT\n'];
    const kept = splitPiecesForNetlink(main);
    expect(kept.netlink).toBe(main);
    expect(kept.tool).toBe('');
    const jumps = '*filter\n-D INPUT -j A\n-I INPUT -j B\nCOMMIT\n';
    const other = '*mangle\n:M - [0:0]\nCOMMIT\n';
    const whole = main.join('') + jumps + other;
    // Cut right after a newline, so no piece holds `\n-I ` or `\n-D ` whole.
    for (const cut of [whole.indexOf('-D '), whole.indexOf('-I '), whole.indexOf('-I ') + 1]) {
      expect(splitPiecesForNetlink([whole.slice(0, cut), whole.slice(cut)])).toEqual({
        netlink: [main.join('') + other],
        tool: jumps,
      });
    }
  });
});
