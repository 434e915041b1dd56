import type { Color } from '@mlbg/contract';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stackLayout } from '../../backends/local/layout';
import { type DiffResult, predictionDiffGate } from '../../gates';
import { answer, fakeBackend, fakeClock } from '../../testing/fakes';
import { type CommandContext, stateFolderStores } from '../context';
import { diffColors } from './diff';

const COLORS = { blue: { version: 'v1.0.0', featureCount: 1 }, green: { version: 'v1.1.0', featureCount: 1 } };
const TOLERANCE = { absolute: 0.01, relative: 0 };

describe('the latest prediction-diff report, kept in the state folder (a fake deployment answering replayed bodies)', () => {
  let dir: string;
  let context: CommandContext;
  let replayFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-last-diff-'));
    const layout = stackLayout(dir, join(dir, 'state'), dir);
    mkdirSync(layout.stateDir);
    const base = fakeBackend({ live: 'blue', colors: COLORS });
    // Green answers 0.5 more than blue: every pair differs by exactly 0.5.
    const request = async (color: Color, call: { body?: string }) => {
      const rows = (JSON.parse(call.body ?? '{}') as { features: number[][] }).features;
      return answer(200, {
        predictions: rows.map((row) => (row[0] ?? 0) + (color === 'green' ? 0.5 : 0)),
        model_version: COLORS[color].version,
      });
    };
    context = {
      backend: { ...base, colors: { ...base.colors, request } },
      ...stateFolderStores(layout),
      clock: fakeClock(),
      userName: 'tester',
      progress: () => undefined,
      preflight: [],
    };
    replayFile = join(dir, 'replay.jsonl');
    writeFileSync(replayFile, Array.from({ length: 5 }, (_, index) => JSON.stringify({ features: [[index]] })).join('\n'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('deploy diff keeps its report with when, by what and by whom, whole (no temp file left)', async () => {
    const result = await diffColors(context, { tolerance: TOLERANCE, replayFile });
    const kept = context.lastDiff?.read();
    expect(kept).toMatchObject({
      by: 'deploy diff',
      user: 'tester',
      time: new Date(1_000_000).toISOString(),
      result: { judged: false, problems: [] },
    });
    expect(kept?.result.report).toEqual(JSON.parse(JSON.stringify(result.report)));
    expect(kept?.result.report.pairs).toBe(5);
    expect(readdirSync(join(dir, 'state')).sort()).toEqual(['last-diff.json']);

    // The next report replaces it, saying what made it.
    await diffColors(context, { tolerance: TOLERANCE, replayFile, by: "the dashboard's compare" });
    expect(JSON.parse(readFileSync(join(dir, 'state', 'last-diff.json'), 'utf8'))).toMatchObject({ by: "the dashboard's compare" });
  });

  it('the prediction-diff gate hands every report it judged to onReport, with the problems that refused it', async () => {
    const reports: DiffResult[] = [];
    const gate = predictionDiffGate({
      criteria: { tolerance: TOLERANCE, minAgreement: 0.99, minPairs: 5 },
      replayFile,
      onReport: (result) => reports.push(result),
    });
    const verdict = await gate.run({
      from: 'blue',
      to: 'green',
      colors: context.backend.colors,
      clock: context.clock,
      timing: { healthChecks: 1, healthIntervalMs: 0, verifyChecks: 1, verifyIntervalMs: 0 },
      facts: {},
    });
    expect(verdict.ok).toBe(false);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ judged: true, report: { pairs: 5, withinTolerance: 0 } });
    expect(reports[0]?.problems.length).toBeGreaterThan(0);
    expect(verdict.observed).toContain(reports[0]?.problems[0] ?? 'a problem');
  });
});
