import { z } from 'zod';
import { Color } from './color';

/** The model service's log levels (pino's), loudest last but `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LogLevel = z.enum(LOG_LEVELS);
export type LogLevel = z.infer<typeof LogLevel>;

/** Beyond this the prediction log would hold tens of megabytes (a record keeps up to 100 rows). */
export const MAX_PREDICTION_LOG_SIZE = 100_000;

/**
 * What the model service runs with when a variable is unset: the original design's blue color.
 * Every launcher (local processes, Compose, Kubernetes) and the service itself read these.
 */
export const SERVICE_ENV_DEFAULTS = {
  MODEL_PATH: 'models/v1.0.0/model.onnx',
  PORT: 8081,
  HOST: '0.0.0.0',
  COLOR: 'blue',
  MAX_BATCH_ROWS: 10_000,
  /** 1 MiB: a 10,000-row single-feature batch is about 120 KB. */
  BODY_LIMIT: 1_048_576,
  LOG_LEVEL: 'info',
  /** One access line per request at info; false keeps only 5xx lines (nginx logs every request). */
  LOG_REQUESTS: true,
  /** How long a stopping service drains its connections. */
  SHUTDOWN_TIMEOUT_MS: 10_000,
  /** RSS growth (MB) after which an idle service runs one full GC; 0 turns it off. */
  IDLE_GC_MB: 16,
  /** Predictions kept for `deploy:diff` (GET /admin/predictions); 0 turns recording off. */
  PREDICTION_LOG_SIZE: 1000,
} as const satisfies { COLOR: Color; LOG_LEVEL: LogLevel; [name: string]: string | number | boolean };

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `must be a whole number (${what})` })
    .int(`must be a whole number (${what})`)
    .positive(`must be greater than 0 (${what})`);

const countOrOff = (what: string) =>
  z.coerce
    .number({ error: `must be a whole number of ${what} (0 = off)` })
    .int(`must be a whole number of ${what} (0 = off)`)
    .min(0, `must be 0 (off) or more ${what}`);

/**
 * The model service's environment variables, their allowed values and defaults: the one place
 * they are spelled. Values are strings (as in `process.env`), parsed into numbers and flags.
 */
export const ServiceEnv = z.object({
  MODEL_PATH: z.string().min(1, 'must name an .onnx file').default(SERVICE_ENV_DEFAULTS.MODEL_PATH),
  PORT: z.coerce
    .number({ error: 'must be a TCP port number' })
    .int('must be a TCP port number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(SERVICE_ENV_DEFAULTS.PORT),
  HOST: z.string().min(1).default(SERVICE_ENV_DEFAULTS.HOST),
  COLOR: Color.default(SERVICE_ENV_DEFAULTS.COLOR),
  MAX_BATCH_ROWS: positiveInt('rows per request').default(SERVICE_ENV_DEFAULTS.MAX_BATCH_ROWS),
  BODY_LIMIT: positiveInt('bytes').default(SERVICE_ENV_DEFAULTS.BODY_LIMIT),
  /** Also listen on this unix socket (nginx's way in); empty = no socket. */
  SOCKET_PATH: z
    .string()
    .min(1)
    .optional()
    .or(z.literal('').transform(() => undefined)),
  LOG_LEVEL: LogLevel.default(SERVICE_ENV_DEFAULTS.LOG_LEVEL),
  LOG_REQUESTS: z
    .stringbool({ truthy: ['true'], falsy: ['false'], case: 'sensitive', error: 'must be true or false' })
    .default(SERVICE_ENV_DEFAULTS.LOG_REQUESTS),
  SHUTDOWN_TIMEOUT_MS: positiveInt('milliseconds').default(SERVICE_ENV_DEFAULTS.SHUTDOWN_TIMEOUT_MS),
  IDLE_GC_MB: countOrOff('megabytes').default(SERVICE_ENV_DEFAULTS.IDLE_GC_MB),
  PREDICTION_LOG_SIZE: countOrOff('predictions')
    .max(MAX_PREDICTION_LOG_SIZE, `must be at most ${MAX_PREDICTION_LOG_SIZE} predictions`)
    .default(SERVICE_ENV_DEFAULTS.PREDICTION_LOG_SIZE),
});
export type ServiceEnv = z.output<typeof ServiceEnv>;
/** The name of one of the service's variables. */
export type ServiceEnvName = keyof z.input<typeof ServiceEnv>;

/** How one color's service is started: what every launcher sets (the rest keeps the service's defaults). */
export interface ColorServiceSettings {
  readonly color: Color;
  /** A path (or a Compose `${VAR:-default}` that becomes one). */
  readonly modelPath: string;
  readonly host: string;
  readonly port: number;
  readonly socketPath?: string;
  readonly bodyLimitBytes: number;
  readonly maxBatchRows: number;
  readonly logLevel?: LogLevel;
  /** Set where a platform's grace period is computed from it (Kubernetes). */
  readonly shutdownTimeoutMs?: number;
  /** Set where nothing reads the records (0: none kept); unset keeps the service's default. */
  readonly predictionLogSize?: number;
  /** false behind nginx, which logs every request itself; unset keeps the service's default. */
  readonly logRequests?: boolean;
}

/** The environment variables a color's service is started with, in one fixed order. */
export function colorServiceEnv(settings: ColorServiceSettings): Partial<Record<ServiceEnvName, string>> {
  return {
    COLOR: settings.color,
    HOST: settings.host,
    PORT: String(settings.port),
    MODEL_PATH: settings.modelPath,
    ...(settings.socketPath === undefined ? {} : { SOCKET_PATH: settings.socketPath }),
    BODY_LIMIT: String(settings.bodyLimitBytes),
    MAX_BATCH_ROWS: String(settings.maxBatchRows),
    LOG_LEVEL: settings.logLevel ?? SERVICE_ENV_DEFAULTS.LOG_LEVEL,
    ...(settings.shutdownTimeoutMs === undefined ? {} : { SHUTDOWN_TIMEOUT_MS: String(settings.shutdownTimeoutMs) }),
    ...(settings.logRequests === undefined ? {} : { LOG_REQUESTS: String(settings.logRequests) }),
    ...(settings.predictionLogSize === undefined ? {} : { PREDICTION_LOG_SIZE: String(settings.predictionLogSize) }),
  };
}
