import type { RuntimeDeps } from '../../../effects/deps';
import { stackLayout } from '../layout';
import { colorEnv } from './color-service';

describe("a local color's environment", () => {
  const layout = stackLayout('/work/project', '.bluegreen', '/tmp');
  const envWith = (inherited: Record<string, string>) =>
    colorEnv({ env: { PATH: '/usr/bin', ...inherited } } as unknown as RuntimeDeps, layout, {
      color: 'green',
      // A replica after the first: every replica runs with the same settings.
      replica: 2,
      model: { path: '/work/project/models/v1.1.0/model.onnx', display: 'models/v1.1.0/model.onnx' },
      port: 8082,
      service: { logLevel: 'info', bodyLimitBytes: 1_048_576, maxBatchRows: 10_000 },
    });
  const env = envWith({});

  it('logs no line per request: nginx in front logs every request already (its errors are still logged)', () => {
    expect(env['LOG_REQUESTS']).toBe('false');
  });

  it('logs every request when the command is run with LOG_REQUESTS=true, on purpose', () => {
    expect(envWith({ LOG_REQUESTS: 'true' })['LOG_REQUESTS']).toBe('true');
  });

  it("keeps the records deploy:diff reads (the service default), on its own socket in its color's folder", () => {
    expect(env['PREDICTION_LOG_SIZE']).toBeUndefined();
    expect(env['SOCKET_PATH']).toBe(layout.replicaSocket('green', 2));
    expect(env['SOCKET_PATH']).toMatch(/\/run\/green\/r2\.sock$/);
  });
});
