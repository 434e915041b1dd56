import type { PredictionRecord } from '@mlbg/contract';
import { diffProblems, diffReport, pairRecords, type PredictionPair } from './prediction-diff-report';

const record = (requestId: string, outputs: number[][], shadow: boolean, extra: Partial<PredictionRecord> = {}): PredictionRecord => ({
  seq: 1,
  requestId,
  time: '2026-12-01T00:00:00.000Z',
  route: 'predict',
  inputDigest: `digest-${requestId}`,
  rows: outputs.length,
  outputs,
  truncated: false,
  latencyMs: shadow ? 2 : 1,
  shadow,
  ...extra,
});
const sides = { live: { color: 'blue' as const, version: 'v1.0.0' }, candidate: { color: 'green' as const, version: 'v1.1.0' } };

describe('pairRecords', () => {
  it('joins live records of the live color with shadow records of the candidate by request id, and counts the rest', () => {
    const live = [record('a', [[1]], false), record('b', [[2]], false), record('replayed', [[3]], true)];
    const candidate = [record('a', [[1.5]], true), record('c', [[9]], true), record('b', [[2]], false)];
    const { pairs, unpaired } = pairRecords(live, candidate);
    expect(pairs.map((pair) => [pair.requestId, pair.live.outputs, pair.candidate.outputs])).toEqual([['a', [[1]], [[1.5]]]]);
    expect(unpaired).toEqual({ live: 1, candidate: 1 });
  });
});

describe('diffReport', () => {
  const pair = (
    requestId: string,
    live: number[][],
    candidate: number[][],
    extra: Partial<PredictionPair['candidate']> = {},
  ): PredictionPair => ({
    requestId,
    live: { outputs: live, latencyMs: 1, inputDigest: requestId },
    candidate: { outputs: candidate, latencyMs: 3, inputDigest: requestId, ...extra },
  });

  it('reports the share within tolerance (absolute + relative), mean, p99 and max of the absolute differences, latencies', () => {
    const pairs = [pair('a', [[10], [20]], [[10.05], [20]]), pair('b', [[100]], [[101]]), pair('c', [[0]], [[0.5]])];
    const report = diffReport(pairs, { source: 'replay', ...sides, tolerance: { absolute: 0.1, relative: 0.01 } });
    // a: 0.05 <= 0.1 + 0.1; b: 1 <= 0.1 + 1; c: 0.5 > 0.1 + 0
    expect(report).toMatchObject({ pairs: 3, withinTolerance: 2, inputMismatches: 0, shapeMismatches: 0 });
    expect(report.withinShare).toBeCloseTo(2 / 3);
    expect(report.absDiff?.values).toBe(4);
    expect(report.absDiff?.mean).toBeCloseTo((0.05 + 0 + 1 + 0.5) / 4);
    expect(report.absDiff?.max).toBeCloseTo(1);
    expect(report.absDiff?.p99).toBeCloseTo(1);
    expect(report.latencyMs.live?.mean).toBe(1);
    expect(report.latencyMs.candidate?.p99).toBe(3);
    expect(report.largest[0]).toEqual({ requestId: 'b', maxAbsDiff: expect.closeTo(1) });
    expect(report.histogram.reduce((sum, bin) => sum + bin.count, 0)).toBe(4);
    expect(report.histogram.at(-1)?.to).toBeCloseTo(1);
  });

  it('leaves out pairs whose inputs differ, and counts a different shape as outside tolerance', () => {
    const pairs = [pair('a', [[1]], [[1]], { inputDigest: 'other' }), pair('b', [[1], [2]], [[1]]), pair('c', [[1]], [[1]])];
    const report = diffReport(pairs, { source: 'shadow', ...sides, tolerance: { absolute: 0, relative: 0 } });
    expect(report).toMatchObject({ pairs: 2, inputMismatches: 1, shapeMismatches: 1, withinTolerance: 1 });
  });

  it('for classifiers: label agreement over rows and the largest probability shift', () => {
    const classifier = (
      requestId: string,
      labels: string[],
      live: number[][],
      candidate: number[][],
      candidateLabels: string[],
    ): PredictionPair => ({
      requestId,
      live: { outputs: live, labels, latencyMs: 1 },
      candidate: { outputs: candidate, labels: candidateLabels, latencyMs: 1 },
    });
    const report = diffReport(
      [
        classifier(
          'a',
          ['x', 'y'],
          [
            [0.9, 0.1],
            [0.2, 0.8],
          ],
          [
            [0.6, 0.4],
            [0.2, 0.8],
          ],
          ['x', 'y'],
        ),
        classifier('b', ['x'], [[0.55, 0.45]], [[0.45, 0.55]], ['y']),
      ],
      { source: 'shadow', ...sides, tolerance: { absolute: 0.5, relative: 0 } },
    );
    expect(report.classifier).toEqual({ rows: 3, labelAgreement: 2 / 3, largestProbabilityShift: expect.closeTo(0.3) });
    // b is within the probability tolerance but its label differs: not within.
    expect(report.withinTolerance).toBe(1);
  });

  it('compares answers a color kept only as a digest (too wide) by that digest: never a pass on nothing compared', () => {
    const live = [
      record('same', [], false, { outputsDigest: 'd1', truncated: true }),
      record('other', [], false, { outputsDigest: 'd1', truncated: true }),
    ];
    const candidate = [
      record('same', [], true, { outputsDigest: 'd1', truncated: true }),
      record('other', [], true, { outputsDigest: 'd2', truncated: true }),
    ];
    const report = diffReport(pairRecords(live, candidate).pairs, { source: 'shadow', ...sides, tolerance: { absolute: 1, relative: 1 } });
    expect(report).toMatchObject({ pairs: 2, withinTolerance: 1, withinShare: 0.5 });
    expect(report).toMatchObject({ absDiff: null, largest: [] });
    // One side digested, the other not (a record from a service before digests): not comparable, so not within.
    const mixed = diffReport(pairRecords([record('m', [[1]], false)], [record('m', [], true, { outputsDigest: 'd1' })]).pairs, {
      source: 'shadow',
      ...sides,
      tolerance: { absolute: 1, relative: 1 },
    });
    expect(mixed).toMatchObject({ pairs: 1, withinTolerance: 0 });
  });

  it('no pairs: no share, no statistics, and the criteria refuse', () => {
    const report = diffReport([], { source: 'shadow', ...sides, tolerance: { absolute: 1, relative: 0 } });
    expect(report).toMatchObject({ pairs: 0, withinShare: null, absDiff: null, classifier: null, histogram: [] });
    expect(diffProblems(report, { tolerance: report.tolerance, minAgreement: 0.5, minPairs: 1 })).toEqual([
      'only 0 pair(s) to compare, at least 1 needed',
    ]);
  });

  it('diffProblems names each limit that is not met', () => {
    const report = diffReport([pair('a', [[1]], [[2]]), pair('b', [[1]], [[1]])], {
      source: 'replay',
      ...sides,
      tolerance: { absolute: 0.5, relative: 0 },
    });
    expect(diffProblems(report, { tolerance: report.tolerance, minAgreement: 0.9, minPairs: 2 })).toEqual([
      '50.0% of pairs within tolerance (|diff| <= 0.5 + 0 x |live|), at least 90.0% needed',
    ]);
    expect(diffProblems(report, { tolerance: report.tolerance, minAgreement: 0.5, minPairs: 2 })).toEqual([]);
  });
});
