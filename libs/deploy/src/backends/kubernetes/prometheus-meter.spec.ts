import { judgeInterval } from '../../gates/judge/judge';
import { judgeLimits } from '../../gates/judge/limits';
import { colorWindow } from '../../gates/judge/records-source';
import { DeploymentSpec } from '../../spec/deployment-spec';
import { fakeClock } from '../../testing/fakes';
import type { PrometheusClient } from './prometheus';
import { prometheusMeter, servedBetween } from './prometheus-meter';

const counters = (pods: Record<string, { status: Record<string, number>; buckets: Record<number, number> }>) => ({
  byStatus: new Map(Object.entries(pods).map(([pod, value]) => [pod, new Map(Object.entries(value.status))])),
  buckets: new Map(
    Object.entries(pods).map(([pod, value]) => [pod, new Map(Object.entries(value.buckets).map(([le, n]) => [Number(le), n]))]),
  ),
});

describe("a window's counts from two readings of the colors' counters (pure)", () => {
  it('adds up what each pod counted in between; a pod that restarted (its total went down) or came new counts from 0', () => {
    const before = counters({
      'pod-a': { status: { '200': 100, '500': 2 }, buckets: { 0.005: 90, [Infinity]: 100 } },
      'pod-b': { status: { '200': 500 }, buckets: { 0.005: 500, [Infinity]: 500 } },
    });
    const after = counters({
      'pod-a': { status: { '200': 150, '500': 5 }, buckets: { 0.005: 130, [Infinity]: 150 } },
      // Restarted: 40 since.
      'pod-b': { status: { '200': 40 }, buckets: { 0.005: 40, [Infinity]: 40 } },
      'pod-c': { status: { '200': 10, '503': 1 }, buckets: { 0.005: 10, [Infinity]: 10 } },
    });
    expect(servedBetween(before, after)).toEqual({
      kind: 'histogram',
      requests: 50 + 3 + 40 + 11,
      errors: 3 + 1,
      latency: { boundsMs: [5, Infinity], cumulative: [40 + 40 + 10, 50 + 40 + 10] },
    });
  });

  it('a Prometheus that does not answer (a fake one that refuses): an empty window with notes, judged inconclusive, never a pass', async () => {
    const down: PrometheusClient = {
      where: 'Prometheus at http://prometheus.invalid',
      query: () => Promise.reject(new Error('connect ECONNREFUSED')),
      queryRange: () => Promise.reject(new Error('connect ECONNREFUSED')),
    };
    const meter = prometheusMeter(down, fakeClock(), 15_000, { stable: 'blue', canary: 'green' });
    await meter.begin(25);
    expect(await meter.counted()).toEqual({ blue: 0, green: 0 });
    const { served, notes } = await meter.end();
    expect(notes).toEqual([
      'Prometheus did not answer when the window began: connect ECONNREFUSED',
      'Prometheus did not answer when the window ended: connect ECONNREFUSED',
    ]);
    const judgement = judgeInterval(
      { canary: colorWindow('green', served.green, []), stable: colorWindow('blue', served.blue, []), pairs: [] },
      { ...judgeLimits(DeploymentSpec.parse({})), outputs: null },
    );
    expect(judgement.verdict).toBe('inconclusive');
  });
});
