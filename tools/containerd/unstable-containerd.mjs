// containerd 2.1 from Debian unstable, for the real-containerd tier on 2.x (tools/containerd,
// NODEAGENT_CONTAINERD=2.1). Its binaries run on Debian stable beside stable's runc, so the package
// is downloaded and unpacked, never installed: apt runs with a private configuration (its own
// source list, package lists and cache) and the system's apt state and packages stay as they are.
// Plain JavaScript: tools/install-deps.mjs runs it with plain node, before any npm dependency.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/** Where the package is unpacked: `<dir>/usr/bin/{containerd,containerd-shim-runc-v2,ctr}`. */
export const CONTAINERD_2_CACHE = '/var/cache/nodeagent/containerd-2.1';
/** The series tools/containerd's version-3 config is written and tested for. */
export const CONTAINERD_2_SERIES = '2.1';
/** The binaries tools/containerd runs from `<CONTAINERD_2_CACHE>/usr/bin`. */
export const CONTAINERD_2_BINARIES = ['containerd', 'containerd-shim-runc-v2', 'ctr'];

export function containerd2Present(dir = CONTAINERD_2_CACHE) {
  return CONTAINERD_2_BINARIES.every((b) => existsSync(join(dir, 'usr', 'bin', b)));
}

/** deb822 `.sources` stanzas as `{ types, uris, suites, components, signedBy }`. */
export function parseDeb822Sources(text) {
  const entries = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = {};
    let last;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) {
        last = m[1].toLowerCase();
        fields[last] = m[2].trim();
      } else if (last && /^\s/.test(line)) fields[last] += `\n${line.trim()}`;
    }
    if (!fields.uris) continue;
    if (fields.enabled?.toLowerCase() === 'no') continue;
    const words = (k) => (fields[k] ?? '').split(/\s+/).filter(Boolean);
    // An inline key (several lines) cannot go into a one-line entry: apt's keyrings then decide.
    const signedBy =
      fields['signed-by'] && !fields['signed-by'].includes('\n') ? fields['signed-by'] : undefined;
    entries.push({
      types: words('types'),
      uris: words('uris'),
      suites: words('suites'),
      components: words('components'),
      signedBy,
    });
  }
  return entries;
}

/** One-line `sources.list` entries (`deb [signed-by=…] uri suite component…`), same shape. */
export function parseOneLineSources(text) {
  const entries = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const signedBy = /(?:^|\s)signed-by=(\S+)/.exec(m[2] ?? '')?.[1];
    entries.push({
      types: [m[1]],
      uris: [m[3]],
      suites: [m[4]],
      components: m[5].split(/\s+/).filter(Boolean),
      signedBy,
    });
  }
  return entries;
}

/**
 * The machine's Debian archive: the first binary entry with a plain release suite (`bookworm`,
 * not `bookworm-security` or `bookworm-updates`) and the `main` component. Its URI serves every
 * suite, unstable included.
 */
export function debianArchiveOf(entries) {
  const archive = entries.find(
    (e) =>
      e.types.includes('deb') && e.components.includes('main') && e.suites.some((s) => /^[a-z]+$/.test(s)),
  );
  const uri = archive?.uris[0];
  return uri ? { uri, signedBy: archive.signedBy } : undefined;
}

/** The private source list: the machine's archive, suite unstable, component main. */
export function unstableSourceList(archive) {
  const options = archive.signedBy ? `[signed-by=${archive.signedBy}] ` : '';
  return `deb ${options}${archive.uri} unstable main\n`;
}

/** The candidate version out of `apt-cache policy <package>` output. */
export function candidateVersionOf(policy) {
  const v = /^\s*Candidate:\s*(\S+)/m.exec(policy)?.[1];
  return v && v !== '(none)' ? v : undefined;
}

export class Containerd2FetchError extends Error {
  constructor(message) {
    super(message);
    this.name = 'Containerd2FetchError';
  }
}

function machineSourceEntries() {
  const entries = [];
  const read = (path) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
  entries.push(...parseOneLineSources(read('/etc/apt/sources.list')));
  const dir = '/etc/apt/sources.list.d';
  for (const f of existsSync(dir) ? readdirSync(dir).sort() : []) {
    if (f.endsWith('.sources')) entries.push(...parseDeb822Sources(read(join(dir, f))));
    if (f.endsWith('.list')) entries.push(...parseOneLineSources(read(join(dir, f))));
  }
  return entries;
}

/**
 * apt options that point every file apt reads or writes for this fetch into `work`: no system
 * source, preference, package list, cache or dpkg status takes part, and none is changed.
 */
function privateAptOptions(work) {
  const settings = {
    'Dir::Etc::SourceList': join(work, 'sources.list'),
    'Dir::Etc::SourceParts': '/dev/null',
    'Dir::Etc::Preferences': '/dev/null',
    'Dir::Etc::PreferencesParts': '/dev/null',
    'Dir::State::Lists': join(work, 'lists'),
    'Dir::State::status': '/dev/null',
    'Dir::Cache': join(work, 'cache'),
    // The private dirs are root's 0700 temp dir, which apt's unprivileged sandbox user cannot write.
    'APT::Sandbox::User': 'root',
  };
  return Object.entries(settings).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}

/**
 * A private apt for Debian unstable in `work` (source list from the machine's own archive, own
 * package lists and cache), updated. Returns the archive's URI, `candidate(pkg)` (the version apt
 * would fetch) and `unpack('pkg=version', into)` (apt-get download, then dpkg-deb -x into `into`).
 * Throws the given error class (each fetch names its own).
 */
export function privateUnstableApt(work, ErrorClass = Containerd2FetchError) {
  const archive = debianArchiveOf(machineSourceEntries());
  if (!archive)
    throw new ErrorClass('no Debian archive with a release suite and main in /etc/apt/sources.list*');
  writeFileSync(join(work, 'sources.list'), unstableSourceList(archive));
  mkdirSync(join(work, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(work, 'cache', 'archives', 'partial'), { recursive: true });
  const apt = privateAptOptions(work);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', [...apt, 'update', '-q'], { stdio: 'inherit', env });
  const candidate = (pkg) =>
    candidateVersionOf(execFileSync('apt-cache', [...apt, 'policy', pkg], { encoding: 'utf8', env }));
  const unpack = (pkgVersion, into) => {
    const before = new Set(readdirSync(work));
    execFileSync('apt-get', [...apt, 'download', '-q', pkgVersion], { cwd: work, stdio: 'inherit', env });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb') && !before.has(f));
    if (!deb) throw new ErrorClass(`apt-get download ${pkgVersion} left no .deb`);
    execFileSync('dpkg-deb', ['-x', join(work, deb), into]);
  };
  return { uri: archive.uri, candidate, unpack };
}

function downloadAndUnpack(work, log) {
  const { uri, candidate, unpack } = privateUnstableApt(work);
  const version = candidate('containerd');
  if (!version) throw new Containerd2FetchError(`${uri} unstable lists no containerd package`);
  if (!version.startsWith(`${CONTAINERD_2_SERIES}.`))
    throw new Containerd2FetchError(
      `Debian unstable now carries containerd ${version}, not ${CONTAINERD_2_SERIES}.x; tools/containerd's version-3 config is written for ${CONTAINERD_2_SERIES} (CONTAINERD_2_SERIES in tools/containerd/unstable-containerd.mjs)`,
    );
  log(
    `install-deps: unpacking containerd ${version} (Debian unstable) into ${CONTAINERD_2_CACHE} (not installed)`,
  );
  const tree = join(work, 'tree');
  unpack(`containerd=${version}`, tree);
  writeFileSync(join(tree, 'VERSION'), `${version}\n`);
  return tree;
}

/**
 * Downloads Debian unstable's containerd with a private apt configuration whose source is the
 * machine's own Debian archive (suite unstable), and unpacks it into CONTAINERD_2_CACHE, published
 * with one rename so an interrupted run leaves no half tree. Throws Containerd2FetchError.
 */
export function unpackUnstableContainerd(log = console.log) {
  mkdirSync(dirname(CONTAINERD_2_CACHE), { recursive: true });
  const work = mkdtempSync(join(dirname(CONTAINERD_2_CACHE), 'na-unstable-apt-'));
  try {
    const tree = downloadAndUnpack(work, log);
    rmSync(CONTAINERD_2_CACHE, { recursive: true, force: true });
    renameSync(tree, CONTAINERD_2_CACHE);
  } catch (e) {
    if (e instanceof Containerd2FetchError) throw e;
    throw new Containerd2FetchError(`fetching containerd from Debian unstable failed: ${e.message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
