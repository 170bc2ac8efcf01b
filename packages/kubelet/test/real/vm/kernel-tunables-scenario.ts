/**
 * Runs INSIDE the micro-VM (root, the guest's own kernel and /proc/sys): the nodeagent-kubelet
 * binary (its bundle's path is argv[2]) started three times, standalone on the fake CRI runtime,
 * against the guest's real kernel settings — protectKernelDefaults: true on the guest's boot
 * values, then false, then true again — and the six sysctls read around each start. The guest's
 * boot values are written back at the end. Prints one `SCENARIO-RESULT {json}` line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { type GuestKubeletOutcome, mountCgroup2, runGuestKubelet } from './guest-kubelet';

const cli = process.argv[2] as string;
const flags = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];

/** The six values as the kernel has them now (read here, apart from the code under test). */
function readSysctls(): Record<string, number> {
  return Object.fromEntries(flags.map((f) => [f, Number(readFileSync(`/proc/sys/${f}`, 'utf8').trim())]));
}

/** One kubelet start with protectKernelDefaults as given, to its exit or to "kubelet started". */
function startKubelet(
  dir: string,
  name: string,
  protect: boolean,
  endpoint: string,
): Promise<GuestKubeletOutcome> {
  const env = { ...process.env };
  // The guest's /proc/sys is the point here: no directory stands in for it.
  delete env.NODEAGENT_KUBELET_SYSCTL_ROOT;
  return runGuestKubelet({
    cli,
    dir,
    name,
    endpoint,
    configLines: [`protectKernelDefaults: ${protect}`],
    flags: ['-v=2', '--cgroups-per-qos=false', '--enforce-node-allocatable='],
    env,
  });
}

async function main(): Promise<void> {
  await mountCgroup2();
  const dir = mkdtempSync('/tmp/na-kernel-tunables-');
  const boot = readSysctls();
  const fake = await FakeRuntime.start();
  try {
    const refused = await startKubelet(dir, 'protect', true, fake.endpoint);
    const afterRefusal = readSysctls();
    const modified = await startKubelet(dir, 'modify', false, fake.endpoint);
    const afterModify = readSysctls();
    const protectedAgain = await startKubelet(dir, 'protect-again', true, fake.endpoint);
    // The lines the test reads (a -v=2 start logs far more), and the end for a failure's report.
    const tail = (s: GuestKubeletOutcome) => ({
      code: s.code,
      stderr: s.stderr
        .split('\n')
        .filter((l) => /kernel flag|ContainerManager|^Error: /.test(l))
        .join('\n'),
      end: s.stderr.slice(-2000),
    });
    console.log(
      `SCENARIO-RESULT ${JSON.stringify({
        boot,
        refused: tail(refused),
        afterRefusal,
        modified: tail(modified),
        afterModify,
        protectedAgain: tail(protectedAgain),
      })}`,
    );
  } finally {
    await fake.stop();
    // The guest's boot values back (its panic=-1 among them), though the VM ends with the scenario.
    for (const [flag, value] of Object.entries(boot)) writeFileSync(`/proc/sys/${flag}`, String(value));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
