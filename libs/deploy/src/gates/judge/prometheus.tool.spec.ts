import { spawnSync } from 'node:child_process';
import { DeploymentSpec } from '../../spec/deployment-spec';
import { seededRandom, simulatedWindow } from '../../testing/judge-traffic';
import { judgeInterval } from './judge';
import { judgeLimits } from './limits';
import { judgeMetrics } from './prometheus';

const negated = (row: readonly number[]) => [-4.97 * (row[0] ?? 0) - 1.95];
const honest = (row: readonly number[]) => [4.97 * (row[0] ?? 0) - 1.95];
const bodies = [[[1]], [[2]], [[3], [4]], [[0.5]]];

describe("the judge's last verdict for Prometheus, checked by promtool", () => {
  const judgement = judgeInterval(
    simulatedWindow({
      canary: negated,
      stable: honest,
      canarySize: { requests: 100, rows: 400 },
      stableSize: { requests: 100, rows: 400 },
      traffic: { bodies, errorShare: 0, medianMs: 2 },
      random: seededRandom(5),
    }),
    judgeLimits(DeploymentSpec.parse({})),
  );
  const last = {
    judgement,
    canary: 'green',
    stable: 'blue',
    canaryVersion: 'v1.0.1',
    stableVersion: 'v1.0.0',
    weight: 5,
    judgedAt: 1_700_000_000_000,
  } as const;

  it("is valid exposition text by Prometheus' own promtool", async () => {
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: await judgeMetrics(last), encoding: 'utf8' });
    expect({ status: checked.status, problems: `${checked.stdout}${checked.stderr}`.trim() }).toEqual({ status: 0, problems: '' });
  });
});
