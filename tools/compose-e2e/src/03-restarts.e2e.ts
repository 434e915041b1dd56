import { compose, dockerOk, killProcess } from './support/exec';
import { healthVerdictMs } from './support/engine';
import { serving, waitUntil } from './support/http';
import { startLoad } from './support/load';
import { recordTiming } from './support/timings';

/** Green is live since the switches before (02-switch-under-load). */
describe('restarts keep the live route', () => {
  beforeAll(async () => {
    expect(await serving(80)).toMatchObject({ status: 200, color: 'green', version: 'v1.1.0' });
  });

  it('`docker-compose restart nginx` keeps green live: the symlinks live in the ml-sockets volume', async () => {
    const started = Date.now();
    const restart = await compose(['restart', 'nginx']);
    expect(restart.status).toBe(0);
    // nginx answers as soon as its process is up again: a second or two.
    await waitUntil('nginx answers again after its restart', 30_000, async () => (await serving(80)).status === 200);
    recordTiming('restart nginx until it answers', Date.now() - started);
    expect(await serving(80)).toMatchObject({ status: 200, color: 'green', version: 'v1.1.0' });
    expect(await serving(80, '/preview/health')).toMatchObject({ status: 200, color: 'blue', version: 'v1.0.0' });
    expect(await dockerOk(['exec', 'ml-nginx', 'readlink', '/run/mlbg/live'])).toBe('green');
  });

  it(
    "a killed replica of the LIVE color (SIGKILL to its process) is restarted by its policy, and not one of 32 keep-alive clients' requests fails: nginx passes them to its sibling",
    async () => {
      const before = Number(await dockerOk(['inspect', '--format', '{{.RestartCount}}', 'ml-service-green']));
      const pid = await dockerOk(['inspect', '--format', '{{.State.Pid}}', 'ml-service-green']);
      const load = startLoad(80, 32);
      // Answers before the kill, so the kill falls in the middle of the load.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const started = Date.now();
      const kill = await killProcess(pid);
      expect(kill.status).toBe(0);
      await waitUntil('ml-service-green restarted by its policy and healthy again', healthVerdictMs(), async () => {
        const state = await dockerOk([
          'inspect',
          '--format',
          '{{.RestartCount}} {{.State.Status}} {{.State.Health.Status}}',
          'ml-service-green',
        ]);
        return state === `${before + 1} running healthy` ? true : state;
      });
      recordTiming('killed live replica until restarted and healthy', Date.now() - started);
      const report = await load.stop();
      recordTiming('kill -9 of a live replica under load', Date.now() - started, `${report.requests} requests, ${report.failed} failed`);
      expect(report.requests).toBeGreaterThan(500);
      expect(report.failures).toEqual([]);
      expect(report.byColorVersion).toEqual({ 'green v1.1.0': report.requests });
    },
    healthVerdictMs() + 30_000,
  );

  it(
    'a killed color container (SIGKILL to its process) is restarted by `restart: unless-stopped`, while live traffic on the other color loses nothing',
    async () => {
      const before = Number(await dockerOk(['inspect', '--format', '{{.RestartCount}}', 'ml-service-blue']));
      const pid = await dockerOk(['inspect', '--format', '{{.State.Pid}}', 'ml-service-blue']);
      const load = startLoad(80, 32);
      const started = Date.now();
      // From the host, as a crash would: `docker kill` counts as a manual stop, which the policy respects.
      const kill = await killProcess(pid);
      expect(kill.status).toBe(0);
      await waitUntil('ml-service-blue restarted by its policy and healthy again', healthVerdictMs(), async () => {
        const state = await dockerOk([
          'inspect',
          '--format',
          '{{.RestartCount}} {{.State.Status}} {{.State.Health.Status}}',
          'ml-service-blue',
        ]);
        return state === `${before + 1} running healthy` ? true : state;
      });
      recordTiming('killed color until restarted and healthy', Date.now() - started);
      expect(await serving(80, '/preview/health')).toMatchObject({ status: 200, color: 'blue', version: 'v1.0.0' });
      const report = await load.stop();
      expect(report.failures).toEqual([]);
      expect(report.byColorVersion).toEqual({ 'green v1.1.0': report.requests });
    },
    healthVerdictMs() + 30_000,
  );
});
