import { SERVICE_ENV_DEFAULTS } from '@mlbg/contract';
import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('defaults to the original design: blue on 8081 with v1.0.0', () => {
    expect(loadConfig({})).toEqual({
      modelPath: 'models/v1.0.0/model.onnx',
      port: 8081,
      host: '0.0.0.0',
      color: 'blue',
      maxBatchRows: SERVICE_ENV_DEFAULTS.MAX_BATCH_ROWS,
      bodyLimit: SERVICE_ENV_DEFAULTS.BODY_LIMIT,
      socketPath: undefined,
      logLevel: 'info',
      logRequests: true,
      shutdownTimeoutMs: 10000,
      idleGcBytes: 16 * 1024 * 1024,
      predictionLogSize: 1000,
    });
  });

  it('reads every variable and freezes the result', () => {
    const config = loadConfig({
      MODEL_PATH: 'm.onnx',
      PORT: '8082',
      HOST: '127.0.0.1',
      COLOR: 'green',
      MAX_BATCH_ROWS: '10',
      BODY_LIMIT: '2048',
      SOCKET_PATH: '/tmp/green.sock',
      LOG_LEVEL: 'warn',
      IDLE_GC_MB: '0',
    });
    expect(config).toMatchObject({
      port: 8082,
      color: 'green',
      maxBatchRows: 10,
      bodyLimit: 2048,
      socketPath: '/tmp/green.sock',
      idleGcBytes: 0,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats an empty SOCKET_PATH as unset', () => {
    expect(loadConfig({ SOCKET_PATH: '' }).socketPath).toBeUndefined();
  });

  it.each([
    [{ PORT: 'abc' }, /PORT="abc": must be a TCP port number/],
    [{ PORT: '70000' }, /PORT="70000": must be between 0 and 65535/],
    [{ COLOR: 'red' }, /COLOR="red": .*blue.*green/],
    [{ MAX_BATCH_ROWS: '0' }, /MAX_BATCH_ROWS="0": must be greater than 0/],
    [{ BODY_LIMIT: '1.5' }, /BODY_LIMIT="1.5": must be a whole number/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud"/],
    [{ LOG_REQUESTS: 'no' }, /LOG_REQUESTS="no": must be true or false/],
    [{ IDLE_GC_MB: '-1' }, /IDLE_GC_MB="-1": must be 0 \(off\) or more megabytes/],
    [{ IDLE_GC_MB: 'lots' }, /IDLE_GC_MB="lots": must be a whole number of megabytes/],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', COLOR: 'red' })).toThrow(/PORT="x".*COLOR="red"/);
  });
});
