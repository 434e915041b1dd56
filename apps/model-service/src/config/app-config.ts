import { ServiceEnv } from '@mlbg/contract';
import type { z } from 'zod';

/**
 * The service's configuration: its environment ({@link ServiceEnv}, where every variable, default
 * and allowed value is spelled) in the names the code uses. Read once at start-up; nothing else
 * reads `process.env`.
 */
export const AppConfig = ServiceEnv.transform((env) => ({
  modelPath: env.MODEL_PATH,
  port: env.PORT,
  host: env.HOST,
  color: env.COLOR,
  maxBatchRows: env.MAX_BATCH_ROWS,
  bodyLimit: env.BODY_LIMIT,
  socketPath: env.SOCKET_PATH,
  logLevel: env.LOG_LEVEL,
  logRequests: env.LOG_REQUESTS,
  shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  idleGcBytes: env.IDLE_GC_MB * 1024 * 1024,
  predictionLogSize: env.PREDICTION_LOG_SIZE,
}));
export type AppConfig = Readonly<z.output<typeof AppConfig>>;

/** Injection token for the frozen {@link AppConfig}. */
export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment into a frozen config, or throws a {@link ConfigError} whose message
 * names every bad variable, e.g. `PORT="abc": must be a TCP port number`.
 */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const result = AppConfig.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const value = env[name];
      return `${name}${value === undefined ? '' : `=${JSON.stringify(value)}`}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}. Fix the environment variable(s) and start again.`);
  }
  return Object.freeze(result.data);
}
