#!/usr/bin/env node
import { runApiServerCli } from './apiserver-command';

// Runs until SIGINT/SIGTERM, then closes watches and the listener.
runApiServerCli(process.argv.slice(2)).then(
  (server) => {
    const stop = () => {
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
  (err: unknown) => {
    const code = (err as { exitCode?: number }).exitCode;
    if (code === undefined) process.stderr.write(`${(err as Error)?.message ?? String(err)}\n`);
    process.exit(code ?? 1);
  },
);
