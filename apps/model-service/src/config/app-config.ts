import { Color } from '@mlbg/contract';
import { z } from 'zod';

export const DEFAULT_PORT = 8081;
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_MAX_BATCH_ROWS = 10_000;
/** 1 MiB: a 10,000-row single-feature batch is about 120 KB. */
export const DEFAULT_BODY_LIMIT = 1_048_576;
export const DEFAULT_MODEL_PATH = 'models/v1.0.0/model.onnx';
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** RSS growth (MB) after which an idle service runs one full GC; see lifecycle/idle-gc.ts. */
export const DEFAULT_IDLE_GC_MB = 16;
/** Predictions kept for `deploy:diff` (GET /admin/predictions); see predictions/prediction-log.ts. */
export const DEFAULT_PREDICTION_LOG_SIZE = 1000;
/** Beyond this the log would hold tens of megabytes (a record keeps up to 100 rows). */
export const MAX_PREDICTION_LOG_SIZE = 100_000;

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `must be a whole number (${what})` })
    .int(`must be a whole number (${what})`)
    .positive(`must be greater than 0 (${what})`);

/** The service's environment. Read once at start-up; nothing else reads `process.env`. */
export const AppConfig = z
  .object({
    MODEL_PATH: z.string().min(1, 'must name an .onnx file').default(DEFAULT_MODEL_PATH),
    PORT: z.coerce
      .number({ error: 'must be a TCP port number' })
      .int('must be a TCP port number')
      .min(0, 'must be between 0 and 65535')
      .max(65535, 'must be between 0 and 65535')
      .default(DEFAULT_PORT),
    HOST: z.string().min(1).default(DEFAULT_HOST),
    COLOR: Color.default('blue'),
    MAX_BATCH_ROWS: positiveInt('rows per request').default(DEFAULT_MAX_BATCH_ROWS),
    BODY_LIMIT: positiveInt('bytes').default(DEFAULT_BODY_LIMIT),
    SOCKET_PATH: z
      .string()
      .min(1)
      .optional()
      .or(z.literal('').transform(() => undefined)),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // One access line per request at info; "false" keeps only 5xx lines (nginx logs every request).
    LOG_REQUESTS: z.enum(['true', 'false'], { error: 'must be true or false' }).default('true'),
    SHUTDOWN_TIMEOUT_MS: positiveInt('milliseconds').default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
    // 0 turns it off.
    IDLE_GC_MB: z.coerce
      .number({ error: 'must be a whole number of megabytes (0 = off)' })
      .int('must be a whole number of megabytes (0 = off)')
      .min(0, 'must be 0 (off) or more megabytes')
      .default(DEFAULT_IDLE_GC_MB),
    // 0 turns recording off.
    PREDICTION_LOG_SIZE: z.coerce
      .number({ error: 'must be a whole number of predictions (0 = off)' })
      .int('must be a whole number of predictions (0 = off)')
      .min(0, 'must be 0 (off) or more predictions')
      .max(MAX_PREDICTION_LOG_SIZE, `must be at most ${MAX_PREDICTION_LOG_SIZE} predictions`)
      .default(DEFAULT_PREDICTION_LOG_SIZE),
  })
  .transform((env) => ({
    modelPath: env.MODEL_PATH,
    port: env.PORT,
    host: env.HOST,
    color: env.COLOR,
    maxBatchRows: env.MAX_BATCH_ROWS,
    bodyLimit: env.BODY_LIMIT,
    socketPath: env.SOCKET_PATH,
    logLevel: env.LOG_LEVEL,
    logRequests: env.LOG_REQUESTS === 'true',
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
