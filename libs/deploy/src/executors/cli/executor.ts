import { spawn } from 'node:child_process';

/** The CLI entry, relative to the workspace root. */
const CLI_MAIN = 'libs/deploy/src/cli/main.ts';
const SWC_PROJECT = 'libs/deploy/tsconfig.lib.json';

interface CliExecutorOptions {
  readonly command: string;
  /** The flags exactly as typed after the target, e.g. `--color=green`. */
  readonly __unparsed__?: readonly string[];
}

/**
 * `@mlbg/deploy:cli`: `nx run deploy:switch --color=green` runs
 * `node -r @swc-node/register libs/deploy/src/cli/main.ts switch --color=green`.
 * nx:run-commands can not do this: its own boolean `color` option swallows `--color=green`.
 */
export default function runDeployCli(options: CliExecutorOptions, context: { root: string }): Promise<{ success: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', CLI_MAIN, options.command, ...(options.__unparsed__ ?? [])], {
      cwd: context.root,
      env: { ...process.env, SWC_NODE_PROJECT: SWC_PROJECT },
      stdio: 'inherit',
    });
    child.once('error', (error) => {
      console.error(`deploy: could not start node: ${error.message}`);
      resolve({ success: false });
    });
    child.once('close', (code) => resolve({ success: code === 0 }));
  });
}
