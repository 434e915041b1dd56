import { judgeHealth, noAnswer } from '../effects/service-client';
import { type Gate, failed, passed } from './gate';

/**
 * The target answers /health 200 "ok", as itself, with the expected version, several times in a
 * row: once by luck is not enough. Records the target's health for the gates after it.
 */
export const healthStreakGate: Gate = {
  name: 'health-streak',
  async run({ to, colors, clock, timing, expectedVersion, facts }) {
    const recorded = colors.recorded(to)?.version;
    let expected = expectedVersion ?? (recorded ? { version: recorded, why: 'the version recorded when it was started' } : undefined);
    const wanted = () =>
      `${timing.healthChecks} answers in a row of 200 "ok" from ${to}${expected ? ` with version ${expected.version}` : ''}`;
    for (let check = 1; check <= timing.healthChecks; check += 1) {
      const where = `${to} /health (check ${check} of ${timing.healthChecks})`;
      const result = await colors.health(to).then(judgeHealth, noAnswer);
      if (result.kind !== 'ok') {
        return failed(
          this.name,
          `${where} ${result.problem}.`,
          wanted(),
          `Check ${to} with deploy:status and its log; release a working model to it with deploy:release.`,
        );
      }
      const { health } = result;
      if (health.color !== to) {
        return failed(
          this.name,
          `${where} was answered by ${health.color}: the ${to} socket reaches the wrong service.`,
          wanted(),
          'Restart the stack (deploy:down, deploy:up): a socket file points at the wrong process.',
        );
      }
      if (expected && health.version !== expected.version) {
        facts.target = health;
        return failed(
          this.name,
          `${where} answered version ${health.version}, but expected ${expected.version}: ${expected.why}.`,
          wanted(),
          `Release the model you mean to ${to}, or pass --expect-version=${health.version} if ${health.version} is right.`,
        );
      }
      expected ??= { version: health.version, why: 'what its first check answered' };
      facts.target = health;
      if (check < timing.healthChecks) await clock.sleep(timing.healthIntervalMs);
    }
    if (!facts.target) return failed(this.name, 'no /health check was configured.', wanted(), 'Set at least one health check.');
    return passed(this.name, `${to} /health: 200 "ok" ${facts.target.version}, ${timing.healthChecks} times in a row`, wanted());
  },
};
