import { LOG_LEVELS, SERVICE_ENV_DEFAULTS, ServiceEnv, colorServiceEnv } from './service-env';

describe('ServiceEnv', () => {
  it('gives every variable its default when the environment is empty', () => {
    expect(ServiceEnv.parse({})).toEqual({
      MODEL_PATH: 'models/v1.0.0/model.onnx',
      PORT: 8081,
      HOST: '0.0.0.0',
      COLOR: 'blue',
      MAX_BATCH_ROWS: 10_000,
      BODY_LIMIT: 1_048_576,
      SOCKET_PATH: undefined,
      LOG_LEVEL: 'info',
      LOG_REQUESTS: true,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      IDLE_GC_MB: 16,
      PREDICTION_LOG_SIZE: 1000,
    });
  });

  it('accepts every log level of the list and nothing else', () => {
    for (const level of LOG_LEVELS) expect(ServiceEnv.parse({ LOG_LEVEL: level }).LOG_LEVEL).toBe(level);
    expect(ServiceEnv.safeParse({ LOG_LEVEL: 'loud' }).success).toBe(false);
  });

  it('reads LOG_REQUESTS as exactly "true" or "false"', () => {
    expect(ServiceEnv.parse({ LOG_REQUESTS: 'false' }).LOG_REQUESTS).toBe(false);
    expect(ServiceEnv.safeParse({ LOG_REQUESTS: 'TRUE' }).error?.issues[0]?.message).toBe('must be true or false');
  });
});

describe('colorServiceEnv', () => {
  const settings = {
    color: 'green',
    modelPath: '/app/models/v1.1.0/model.onnx',
    host: '127.0.0.1',
    port: 18082,
    socketPath: '/run/mlbg/green.sock',
    bodyLimitBytes: 2048,
    maxBatchRows: 50,
    logLevel: 'warn',
    shutdownTimeoutMs: 4000,
  } as const;

  it('is what the service parses back into the same settings', () => {
    expect(ServiceEnv.parse(colorServiceEnv(settings))).toEqual({
      ...ServiceEnv.parse({}),
      COLOR: 'green',
      MODEL_PATH: '/app/models/v1.1.0/model.onnx',
      HOST: '127.0.0.1',
      PORT: 18082,
      SOCKET_PATH: '/run/mlbg/green.sock',
      BODY_LIMIT: 2048,
      MAX_BATCH_ROWS: 50,
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: 4000,
    });
  });

  it('leaves out what is not given, and sets the default log level explicitly', () => {
    const { socketPath: _socket, logLevel: _level, shutdownTimeoutMs: _shutdown, ...required } = settings;
    const env = colorServiceEnv(required);
    expect(Object.keys(env)).toEqual(['COLOR', 'HOST', 'PORT', 'MODEL_PATH', 'BODY_LIMIT', 'MAX_BATCH_ROWS', 'LOG_LEVEL']);
    expect(env.LOG_LEVEL).toBe(SERVICE_ENV_DEFAULTS.LOG_LEVEL);
  });
});
