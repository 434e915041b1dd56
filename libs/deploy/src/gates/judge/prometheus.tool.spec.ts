import { spawnSync } from 'node:child_process';
import { negatedSlopeVerdict } from '../../testing/judge-traffic';
import { judgeMetrics } from './prometheus';

describe("the judge's last verdict for Prometheus, checked by promtool", () => {
  const last = negatedSlopeVerdict();

  it("is valid exposition text by Prometheus' own promtool", async () => {
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: await judgeMetrics(last), encoding: 'utf8' });
    expect({ status: checked.status, problems: `${checked.stdout}${checked.stderr}`.trim() }).toEqual({ status: 0, problems: '' });
  });
});
