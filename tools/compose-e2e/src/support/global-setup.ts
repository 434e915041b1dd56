import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ENGINE_DIR, ENGINE_SCRIPTS, readEngineEnv } from './engine';
import { BUILT_DEPLOY_CLI, WORKSPACE_ROOT } from './exec';
import { recordTiming, TIMINGS_FILE } from './timings';

/** The ports the seed's files publish: nginx, blue, green. */
export const SEED_PORTS = [80, 8081, 8082] as const;
/** prepare.sh installs packages and builds base images on a fresh machine: about a minute here, 10 at most. */
const PREPARE_TIMEOUT_MS = 10 * 60_000;

function canBind(port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error) => resolve(error));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(null)));
  });
}

/**
 * Prepares the engine (tools/compose-e2e/engine/prepare.sh, idempotent), removes a stack an
 * interrupted run left, and checks that the seed's ports are free: the suite runs the real files,
 * unchanged, so it needs 80, 8081 and 8082 themselves.
 */
export default async function globalSetup(): Promise<void> {
  if (!existsSync(join(WORKSPACE_ROOT, BUILT_DEPLOY_CLI)))
    throw new Error(
      `The Compose suite runs the built deploy CLI (${BUILT_DEPLOY_CLI}), which is missing: \`npx nx run deploy:build\` (the e2e target builds it first).`,
    );
  mkdirSync(ENGINE_DIR, { recursive: true });
  rmSync(TIMINGS_FILE, { force: true });
  const started = Date.now();
  const prepare = spawnSync(join(ENGINE_SCRIPTS, 'prepare.sh'), [], { cwd: WORKSPACE_ROOT, stdio: 'inherit', timeout: PREPARE_TIMEOUT_MS });
  if (prepare.status !== 0)
    throw new Error(`tools/compose-e2e/engine/prepare.sh failed (exit ${prepare.status ?? prepare.signal}); its messages are above.`);
  Object.assign(process.env, readEngineEnv());
  recordTiming('engine preparation (prepare.sh)', Date.now() - started);

  // Leftovers of an interrupted run (same fixed container names) would make `up` fail.
  spawnSync(
    'docker-compose',
    ['-f', 'docker-compose.yml', '-f', 'docker-compose.blue.yml', '-f', 'docker-compose.green.yml', 'down', '-v', '--remove-orphans'],
    {
      cwd: WORKSPACE_ROOT,
      stdio: 'ignore',
      timeout: 120_000,
    },
  );
  spawnSync(
    'docker',
    ['rm', '-f', 'ml-nginx', 'ml-shadow-relay', 'ml-service-blue', 'ml-service-blue-2', 'ml-service-green', 'ml-service-green-2'],
    {
      stdio: 'ignore',
      timeout: 60_000,
    },
  );

  const busy: string[] = [];
  for (const port of SEED_PORTS) {
    const error = await canBind(port);
    if (error) busy.push(`${port} (${error.code})`);
  }
  if (busy.length > 0) {
    throw new Error(
      `The Compose suite runs the seed's files unchanged, which publish ports 80, 8081 and 8082, but ${busy.join(', ')} can not be used here. ` +
        'Free them (`ss -ltnp` shows who holds them; a local stack from `npm start` uses 80, 8081 and 8082 too: `npm run stop`), or run the suite as root where they are free.',
    );
  }
}
