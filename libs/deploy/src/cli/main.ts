/**
 * The deploy CLI: `node -r @swc-node/register libs/deploy/src/cli/main.ts <command> [flags]`, or
 * `npx nx run deploy:<command> [flags]`. The commands are the registry's (commands/registry.ts),
 * plus `dashboard` and `help`; `help` lists them with their flags (so does docs/operate.md).
 * Run from anywhere inside the workspace.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { realDeps } from '../effects/real-deps';
import { DEPLOYMENT_SPEC_PATH } from '../spec/deployment-spec';
import { runCli } from './run';

/**
 * The folder the commands work in: the checkout holding nx.json, from the current directory up;
 * else a deploy folder without a checkout (a server: the compose files and deploy/deployment.json,
 * where CD runs this CLI from the image); else this file's workspace.
 */
function findWorkspaceRoot(start: string): string {
  const up = (found: (dir: string) => boolean): string | undefined => {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      if (found(dir)) return dir;
      if (dirname(dir) === dir) return undefined;
    }
  };
  return (
    up((dir) => existsSync(join(dir, 'nx.json'))) ??
    up((dir) => existsSync(join(dir, DEPLOYMENT_SPEC_PATH))) ??
    resolve(__dirname, '../../../..')
  );
}

const env = { ...process.env };
const workspaceRoot = findWorkspaceRoot(process.cwd());
void runCli(process.argv.slice(2), {
  env,
  workspaceRoot,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  deps: (progress) => realDeps({ workspaceRoot, env, progress }),
}).then((code) => {
  process.exitCode = code;
});
