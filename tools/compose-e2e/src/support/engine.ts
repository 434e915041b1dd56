import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { WORKSPACE_ROOT } from './exec';

/** Where prepare.sh keeps its state (the same default as the script). */
export const ENGINE_DIR = process.env['COMPOSE_E2E_ENGINE_DIR'] ?? '/tmp/mlbg-compose-engine';
export const ENGINE_SCRIPTS = join(WORKSPACE_ROOT, 'tools/compose-e2e/engine');

/** `docker` or `podman`, as prepare.sh found or set it up (global setup exports it). */
export function engineName(): 'docker' | 'podman' {
  return process.env['COMPOSE_E2E_ENGINE'] === 'podman' ? 'podman' : 'docker';
}

/** The local registry, host:port. */
export function registry(): string {
  const value = process.env['COMPOSE_E2E_REGISTRY'];
  if (!value) throw new Error('COMPOSE_E2E_REGISTRY is not set: the global setup runs tools/compose-e2e/engine/prepare.sh first');
  return value;
}

/** The variables prepare.sh writes to its env file (`export NAME=value` lines). */
export function readEngineEnv(): Record<string, string> {
  const text = readFileSync(join(ENGINE_DIR, 'env'), 'utf8');
  return Object.fromEntries([...text.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map((match) => [match[1], match[2]]));
}

const seconds = (value: string) => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value);
  if (!match) throw new Error(`not a Compose duration: ${value}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as 'ms' | 's' | 'm'];
};

/**
 * How long a color may take to be reported healthy or unhealthy: the files' own healthcheck
 * (start_period + retries x (interval + timeout)), plus one tick of podman's healthcheck ticker
 * (prepare.sh runs them every HEALTHCHECK_TICK = interval seconds) and the time to recreate it.
 */
export function healthVerdictMs(): number {
  const file = parse(readFileSync(join(WORKSPACE_ROOT, 'docker-compose.blue.yml'), 'utf8')) as {
    services: Record<string, { healthcheck: { interval: string; timeout: string; retries: number; start_period: string } }>;
  };
  const check = file.services['ml-service-blue'].healthcheck;
  const interval = seconds(check.interval);
  const total = seconds(check.start_period) + check.retries * (interval + seconds(check.timeout)) + interval + RECREATE_SECONDS;
  return Math.ceil(total * 1000);
}
/** `up -d --force-recreate` of one container, measured at 2-4 s here; with room for a loaded machine. */
const RECREATE_SECONDS = 20;
