import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, WORKSPACE_ROOT, type RunResult } from './workspace';

/** The script under test. */
export const DEPLOY_SCRIPT = join(WORKSPACE_ROOT, 'scripts/deploy_compose.sh');
/** The fake `docker`, `curl`, `ssh` and `node` executables. */
export const FAKES = join(__dirname, 'fakes');
/** An image reference as CD passes it. */
export const IMAGE = 'ghcr.io/acme/ml-deployment/model-service:3f2c1e0';
type Color = 'blue' | 'green';

/**
 * A server with the Compose stack, faked: `docker` and `curl` first in PATH are the scripts in
 * ./fakes, which keep the engine's state in files and move real symlinks for nginx's sockets.
 */
export class FakeServer {
  readonly root = mkdtempSync(join(tmpdir(), 'deploy-compose-'));
  readonly state = join(this.root, 'state');
  readonly project = join(this.root, 'project');
  readonly bin = join(this.root, 'bin');

  constructor(options: { live?: Color; running?: boolean } = {}) {
    const { live = 'blue', running = true } = options;
    mkdirSync(join(this.state, 'sockets'), { recursive: true });
    mkdirSync(this.bin);
    for (const tool of ['docker', 'curl', 'ssh', 'node']) {
      cpSync(join(FAKES, tool), join(this.bin, tool));
      chmodSync(join(this.bin, tool), 0o755);
    }
    writeFileSync(join(this.state, 'calls.log'), '');
    mkdirSync(join(this.project, 'deploy/nginx'), { recursive: true });
    for (const file of [
      'docker-compose.yml',
      'docker-compose.blue.yml',
      'docker-compose.green.yml',
      'deploy/nginx/nginx.conf',
      'deploy/deployment.json',
    ]) {
      cpSync(join(WORKSPACE_ROOT, file), join(this.project, file));
    }
    if (!running) return;
    const sockets = join(this.state, 'sockets');
    // As in the stack's socket volume: a folder of replica sockets per color, the route links to the folders.
    for (const color of ['blue', 'green'] as const) {
      mkdirSync(join(sockets, color));
      writeFileSync(join(sockets, color, 'r1.sock'), '');
      writeFileSync(join(this.state, `image-${color}`), `ml-model-service:${color}\n`);
    }
    symlinkSync(live, join(sockets, 'live'));
    symlinkSync(live === 'blue' ? 'green' : 'blue', join(sockets, 'preview'));
    writeFileSync(join(this.state, 'nginx-running'), '');
  }

  /** The environment the fakes need: them first in PATH, their state, no waiting between polls. */
  env(): Record<string, string> {
    return {
      PATH: `${this.bin}:${process.env['PATH']}`,
      HOME: this.root,
      FAKE_STATE: this.state,
    };
  }

  deploy(args: string[], env: Record<string, string> = {}): RunResult {
    return run('bash', [DEPLOY_SCRIPT, ...args], { env: { ...this.env(), DEPLOY_DIR: this.project, ...env } });
  }

  /** Every docker/curl call, in order. */
  calls(): string[] {
    return readFileSync(join(this.state, 'calls.log'), 'utf8').trim().split('\n');
  }
  /** How the deploy CLI was run: `node ...` (on the host) or `docker run ...` (in a container). */
  cliCalls(): string[] {
    return this.calls().filter((call) => call.startsWith('node ') || call.startsWith('docker run '));
  }
  /** The `up` calls, with the image variables they were given. */
  ups(): string[] {
    return this.calls()
      .filter((call) => / up /.test(call))
      .map((call) =>
        call.replace(/^docker compose -f docker-compose\.yml -f docker-compose\.blue\.yml -f docker-compose\.green\.yml /, ''),
      );
  }
  route(name: 'live' | 'preview'): string {
    return readlinkSync(join(this.state, 'sockets', name));
  }
  image(color: Color): string {
    return readFileSync(join(this.state, `image-${color}`), 'utf8').trim();
  }
  envFile(): string {
    const file = join(this.project, '.env');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }
  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
