import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '../testing/stack-harness';

/**
 * The documented commands go through `nx run` and the @mlbg/deploy:cli executor, and Nx keeps some
 * flags for itself (`--target`, which is why the option is `--backend`). This runs the real `nx`.
 */
jest.setTimeout(120_000);
/**
 * As a person runs it, not as a task of the `nx run-many` that runs this spec: Nx takes a task that
 * another process under the same root runs at that moment (the Compose suite's deploy:switch) for a
 * loop, and refuses it.
 */
const NX_ENV = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', NX_INVOCATION_ROOT_PID: undefined };

describe('npx nx run deploy:<command> (the real nx)', () => {
  let stateDir: string;
  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'mlbg-nx-'));
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('hands --backend=compose, --color and --json to the CLI: the switch runs on the Compose backend', () => {
    // A compose command that always fails: the switch can only get as far as asking it.
    const result = spawnSync('npx', ['nx', 'run', 'deploy:switch', '--backend=compose', '--color=green', '--json'], {
      cwd: WORKSPACE_ROOT,
      encoding: 'utf8',
      env: {
        ...NX_ENV,
        BLUEGREEN_COMPOSE_COMMAND: '/bin/false',
        BLUEGREEN_STATE_DIR: stateDir,
      },
    });
    expect(result.status).toBe(1);
    const json = result.stdout.slice(result.stdout.indexOf('\n{') + 1, result.stdout.indexOf('\n}\n') + 2);
    expect(JSON.parse(json)).toMatchObject({
      ok: false,
      command: 'switch',
      error: {
        code: 'COMPOSE_FAILED',
        // Its first step reads the route links inside nginx's container (one exec for all of them).
        message: expect.stringMatching(
          /^A docker compose command failed\. `\/bin\/false -f docker-compose\.yml -f docker-compose\.blue\.yml -f docker-compose\.green\.yml exec -T nginx sh -c cd \/run\/mlbg && .*readlink.*` exited 1/,
        ),
      },
    });
  });

  it('hands the positional of deploy:shadow to the CLI (the executor knows shadow, diff and capture)', () => {
    const result = spawnSync('npx', ['nx', 'run', 'deploy:shadow', 'status', '--json'], {
      cwd: WORKSPACE_ROOT,
      encoding: 'utf8',
      env: { ...NX_ENV, BLUEGREEN_STATE_DIR: stateDir },
    });
    expect(result.status).toBe(0);
    const json = result.stdout.slice(result.stdout.indexOf('\n{') + 1, result.stdout.indexOf('\n}\n') + 2);
    expect(JSON.parse(json)).toMatchObject({ ok: true, command: 'shadow', result: { action: 'status', on: false } });
  });

  it('hands --abort of deploy:canary to the CLI (the executor knows canary and promote): with no stack it says so', () => {
    const result = spawnSync('npx', ['nx', 'run', 'deploy:canary', '--abort', '--json'], {
      cwd: WORKSPACE_ROOT,
      encoding: 'utf8',
      env: { ...NX_ENV, BLUEGREEN_STATE_DIR: stateDir },
    });
    expect(result.status).toBe(1);
    const json = result.stdout.slice(result.stdout.indexOf('\n{') + 1, result.stdout.indexOf('\n}\n') + 2);
    expect(JSON.parse(json)).toMatchObject({ ok: false, command: 'canary', error: { code: 'STACK_NOT_RUNNING' } });
  });
});
