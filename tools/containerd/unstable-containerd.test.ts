import { describe, expect, it } from 'vitest';
import {
  candidateVersionOf,
  debianArchiveOf,
  parseDeb822Sources,
  parseOneLineSources,
  unstableSourceList,
} from './unstable-containerd.mjs';

// The shapes of this machine's /etc/apt/sources.list.d/debian.sources, with a neutral host.
const deb822 = `Types: deb
# a comment
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('the private unstable source, derived from the machine’s own', () => {
  it('takes the archive with a release suite and main from deb822 sources, not security or updates', () => {
    const security = parseDeb822Sources(deb822).slice(1);
    expect(debianArchiveOf(security)).toBeUndefined();
    const archive = debianArchiveOf(parseDeb822Sources(deb822));
    expect(archive).toEqual({
      uri: 'http://mirror.invalid/debian',
      signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
    });
    expect(unstableSourceList(archive ?? { uri: '' })).toBe(
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.invalid/debian unstable main\n',
    );
  });

  it('skips disabled stanzas and leaves an inline key to apt’s keyrings', () => {
    const text = `Types: deb\nURIs: http://a.invalid/debian\nSuites: trixie\nComponents: main\nEnabled: no\n\nTypes: deb\nURIs: http://b.invalid/debian\nSuites: trixie\nComponents: main contrib\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n -----END PGP PUBLIC KEY BLOCK-----\n`;
    expect(debianArchiveOf(parseDeb822Sources(text))).toEqual({
      uri: 'http://b.invalid/debian',
      signedBy: undefined,
    });
  });

  it('reads one-line sources.list entries, their signed-by option, and skips comments and deb-src', () => {
    const text = [
      '# deb http://old.invalid/debian buster main',
      'deb-src http://src.invalid/debian bookworm main',
      'deb http://mirror.invalid/debian-security bookworm-security main',
      'deb [arch=amd64 signed-by=/k.gpg] http://mirror.invalid/debian bookworm main contrib',
    ].join('\n');
    expect(debianArchiveOf(parseOneLineSources(text))).toEqual({
      uri: 'http://mirror.invalid/debian',
      signedBy: '/k.gpg',
    });
    expect(unstableSourceList({ uri: 'http://m.invalid/debian' })).toBe(
      'deb http://m.invalid/debian unstable main\n',
    );
  });

  it('reads the candidate version out of apt-cache policy', () => {
    const policy = 'containerd:\n  Installed: (none)\n  Candidate: 2.1.9+ds1-5\n  Version table:\n';
    expect(candidateVersionOf(policy)).toBe('2.1.9+ds1-5');
    expect(candidateVersionOf('containerd:\n  Installed: (none)\n  Candidate: (none)\n')).toBeUndefined();
  });
});
