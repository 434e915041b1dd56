import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployCli, dockerOk, exec } from './support/exec';
import { healthVerdictMs } from './support/engine';
import { PREDICT_BODY, ask, waitUntil } from './support/http';
import { startLoad } from './support/load';
import { recordTiming } from './support/timings';

/**
 * Shadow traffic on Compose: the relay is the files' `shadow-relay` service; `deploy:shadow on`
 * links nginx's `shadow.sock` to its socket in the volume (no reload). Blue is live (v1.1.0) and
 * green idle on the negated-slope model since 04-canary, so the copies' answers differ from live's.
 */
describe('shadow traffic, diff and capture on Compose (deploy:shadow / diff / capture --backend=compose)', () => {
  let stateDir: string;
  const COMMAND_TIMEOUT_MS = 120_000;

  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'compose-e2e-shadow-'));
  });
  afterAll(async () => {
    await deployCli(['shadow', 'off', '--backend=compose', `--state-dir=${stateDir}`], { timeoutMs: COMMAND_TIMEOUT_MS });
    rmSync(stateDir, { recursive: true, force: true });
  });

  const cli = async <T>(...args: string[]) => {
    const result = await deployCli([...args, '--backend=compose', '--json', `--state-dir=${stateDir}`], { timeoutMs: COMMAND_TIMEOUT_MS });
    return { status: result.status, stderr: result.stderr, out: JSON.parse(result.stdout || '{}') as { ok: boolean; result: T } };
  };
  interface Relay {
    received: number;
    forwarded: number;
    failed: number;
    percent: number;
  }
  const relay = async () => (await cli<{ on: boolean; relay: Relay | null }>('shadow', 'status')).out.result;

  it(
    'shadow on, 500 live requests: each answered by live blue, each copied to green through the relay, and deploy:diff compares them pair by pair',
    async () => {
      const started = Date.now();
      const on = await cli<{ on: boolean; percent: number }>('shadow', 'on');
      expect({ status: on.status, stderr: on.status === 0 ? '' : on.stderr, result: on.out.result }).toMatchObject({
        status: 0,
        stderr: '',
        result: { on: true, percent: 100 },
      });
      const before = (await relay()).relay?.received ?? 0;
      for (let index = 0; index < 500; index += 1) {
        const answer = await ask(80, '/predict', PREDICT_BODY);
        expect({ status: answer.status, color: answer.color }).toEqual({ status: 200, color: 'blue' });
      }
      await waitUntil('the relay forwarded the 500 copies', 30_000, async () => {
        const now = (await relay()).relay;
        return (now && now.received - before >= 500 && now.forwarded + now.failed >= now.received) || JSON.stringify(now);
      });
      const diff = await cli<{
        report: { source: string; pairs: number; live: unknown; candidate: unknown; absDiff: { max: number } | null };
      }>('diff');
      recordTiming('shadow on, 500 requests, diff', Date.now() - started, `${diff.out.result.report.pairs} pairs`);
      expect(diff.out.result.report).toMatchObject({
        source: 'shadow',
        live: { color: 'blue', version: 'v1.1.0' },
        candidate: { color: 'green', version: 'v1.0.1' },
      });
      // Both colors keep 1,000 records per replica: the 500 live answers and their 500 copies are all there.
      expect(diff.out.result.report.pairs).toBeGreaterThanOrEqual(500);
      expect(diff.out.result.report.absDiff?.max).toBeGreaterThan(1);
    },
    4 * COMMAND_TIMEOUT_MS,
  );

  it(
    "the relay's process killed under 32 keep-alive clients: no live request fails, its restart policy brings it back, and copies are forwarded again",
    async () => {
      const started = Date.now();
      const load = startLoad(80, 32);
      const restartsOf = async () => Number(await dockerOk(['inspect', '--format', '{{.RestartCount}}', 'ml-shadow-relay']));
      const restartsBefore = await restartsOf();
      const pid = await dockerOk(['inspect', '--format', '{{.State.Pid}}', 'ml-shadow-relay']);
      expect((await exec('kill', ['-9', pid], { timeoutMs: 10_000 })).status).toBe(0);
      await waitUntil('the relay is restarted by its policy', healthVerdictMs(), async () => (await restartsOf()) > restartsBefore);
      // A new process: its counters start from 0, so what it forwarded it forwarded after the restart.
      await waitUntil('the new relay forwards copies', healthVerdictMs(), async () => {
        const now = await relay();
        return (now.on && now.relay !== null && now.relay.forwarded > 0) || JSON.stringify(now);
      });
      const report = await load.stop();
      recordTiming('relay killed until it forwards again', Date.now() - started, `${report.requests} requests, ${report.failed} failed`);
      expect(report.failures).toEqual([]);
      expect(report.byStatus).toEqual({ '200': report.requests });
    },
    healthVerdictMs() + 2 * COMMAND_TIMEOUT_MS,
  );

  it(
    'deploy:capture writes the next live bodies to a file (read out of the relay container); shadow off removes the link',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'compose-e2e-capture-'));
      const load = startLoad(80, 4);
      try {
        const file = join(dir, 'live.jsonl');
        const capture = await cli<{ captured: number; shadowWasOff: boolean }>('capture', '--n=50', `--out=${file}`);
        expect({ status: capture.status, stderr: capture.status === 0 ? '' : capture.stderr }).toEqual({ status: 0, stderr: '' });
        expect(capture.out.result).toMatchObject({ captured: 50, shadowWasOff: false });
        const lines = readFileSync(file, 'utf8').trim().split('\n');
        expect(lines).toHaveLength(50);
        expect(JSON.parse(lines[0] ?? '')).toEqual(JSON.parse(PREDICT_BODY));
      } finally {
        const report = await load.stop();
        expect(report.failures).toEqual([]);
        rmSync(dir, { recursive: true, force: true });
      }
      const off = await cli<{ on: boolean }>('shadow', 'off');
      expect({ status: off.status, on: off.out.result.on }).toEqual({ status: 0, on: false });
      expect(await dockerOk(['exec', 'ml-nginx', 'sh', '-c', '[ -L /run/mlbg/shadow.sock ] && echo on || echo off'])).toBe('off');
    },
    2 * COMMAND_TIMEOUT_MS,
  );
});
