import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { findBinary, readWorkspaceFile, run, WORKSPACE_ROOT } from './workspace';

/** The original README's three files, in its order. */
export const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.blue.yml', 'docker-compose.green.yml'];

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  container_name?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: ({ published: number | string; target: number; host_ip?: string } | string)[];
  volumes?: (string | { source: string; target: string })[];
  networks?: Record<string, unknown> | string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { name?: string; driver?: string }>;
  volumes?: Record<string, unknown>;
}

/** A committed compose file as written (variables not interpolated). */
export function readComposeFile(file: string): ComposeFile {
  return parse(readWorkspaceFile(file)) as ComposeFile;
}

/** `docker-compose` (1.x, as the original README used) or else the `docker compose` plugin. */
export function findCompose(): string[] | undefined {
  const v1 = findBinary('docker-compose');
  if (v1) return [v1];
  const docker = findBinary('docker');
  if (docker && run(docker, ['compose', 'version']).status === 0) return [docker, 'compose'];
  return undefined;
}

/**
 * What Compose itself makes of the three files (`config`), with only the given variables set:
 * an empty env file, so a developer's .env can not change the answer.
 */
export function composeConfig(compose: string[], variables: Record<string, string> = {}): ComposeFile {
  const dir = mkdtempSync(join(tmpdir(), 'compose-env-'));
  try {
    const envFile = join(dir, '.env');
    writeFileSync(envFile, '');
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], ...variables };
    const [command, ...prefix] = compose;
    const result = run(command, [...prefix, '--env-file', envFile, ...COMPOSE_FILES.flatMap((file) => ['-f', file]), 'config'], {
      env,
      cwd: WORKSPACE_ROOT,
    });
    if (result.status !== 0) throw new Error(`${compose.join(' ')} config failed: ${result.stderr}`);
    return parse(result.stdout) as ComposeFile;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `8081:8081` whatever syntax the Compose version printed. */
export function portsOf(service: ComposeService): string[] {
  // docker-compose 1.29 prints a mapping with an address as `127.0.0.1:8081:8081/tcp`; tcp is the default.
  return (service.ports ?? []).map((port) =>
    typeof port === 'string' ? port.replace(/\/tcp$/, '') : `${port.host_ip ? `${port.host_ip}:` : ''}${port.published}:${port.target}`,
  );
}

/** `ml-sockets:/run/mlbg` whatever syntax the Compose version printed. */
export function volumesOf(service: ComposeService): string[] {
  return (service.volumes ?? []).map((volume) =>
    typeof volume === 'string' ? volume.replace(/:(rw|ro)$/, '') : `${volume.source}:${volume.target}`,
  );
}

export function networksOf(service: ComposeService): string[] {
  return Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {});
}
