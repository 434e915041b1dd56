import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts } from '@mlbg/deploy/testing';
import { deploy, saveStack, WORKSPACE_ROOT } from './stack';

/** Starts the real local stack (both colors and nginx) on free loopback ports, through the deploy library. */
export default async function globalSetup(): Promise<void> {
  const service = resolve(WORKSPACE_ROOT, 'dist/apps/model-service/src/main.js');
  if (!existsSync(service)) throw new Error(`${service} is missing: run the suite with \`npx nx run e2e:e2e\`, which builds it first.`);

  const stateDir = mkdtempSync(join(tmpdir(), 'mlbg-e2e-'));
  const [router, blue, green] = await freePorts(3);
  const ports = { router, blue, green };
  const up = await deploy(
    stateDir,
    'up',
    `--router-port=${ports.router}`,
    `--blue-port=${ports.blue}`,
    `--green-port=${ports.green}`,
    '--log-level=warn',
  );
  if (!up.ok || up.result.kind !== 'started') {
    throw new Error(`deploy up failed: ${up.error?.message ?? JSON.stringify(up.result)}\n${up.stderr}`);
  }
  const { routerUrl, previewUrl, nginxPid, colors } = up.result;
  const pids = [nginxPid, colors.blue.pid, colors.green.pid].filter((pid): pid is number => pid !== null);
  saveStack({ stateDir, routerUrl, previewUrl, ports, pids });
  console.log(
    `e2e stack up: nginx ${routerUrl} (preview ${previewUrl}), blue :${ports.blue} ${colors.blue.version}, green :${ports.green} ${colors.green.version}`,
  );
}
