/** POSIX single-quote `value` so the guest's sh passes it through byte for byte. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export interface RunScriptInput {
  command: string;
  args: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
}

/**
 * The guest-side wrapper (runs as PID 1 after switch_root): tells the host it has booted and waits
 * for the speed factor the host derives from that (see speed.ts; exported to the command as
 * NODEAGENT_VM_SPEED_FACTOR), brings up `lo`, runs the command with its output in the I/O share
 * (which the host tails while it runs), records the exit status, then resets the VM so qemu
 * (-no-reboot) exits.
 */
export function runScript({ command, args, cwd, env }: RunScriptInput): string {
  const exports = Object.entries(env)
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
        throw new TypeError(`invalid environment variable name ${JSON.stringify(k)}`);
      return `export ${k}=${shellQuote(v)}`;
    })
    .join('\n');
  return `io=/run/vmio
: >"$io/booted"
# The host answers within one poll (50 ms); 1 if it never does (then limits are unscaled).
i=0
while [ ! -s "$io/speed" ] && [ "$i" -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
NODEAGENT_VM_SPEED_FACTOR=$(cat "$io/speed" 2>/dev/null || echo 1)
export NODEAGENT_VM_SPEED_FACTOR
ip link set lo up 2>/dev/null
${exports}
set -- ${[command, ...args].map(shellQuote).join(' ')}
status=0
cd ${shellQuote(cwd)} || status=126
if [ "$status" = 0 ]; then
  "$@" >"$io/stdout" 2>"$io/stderr" </dev/null
  status=$?
fi
echo "$status" >"$io/exit.tmp" && mv "$io/exit.tmp" "$io/exit"
sync
echo b >/proc/sysrq-trigger
sleep 10
`;
}
