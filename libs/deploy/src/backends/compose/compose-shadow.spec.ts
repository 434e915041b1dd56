import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RelayStatus } from '@mlbg/contract';
import { DEFAULT_DEPLOYMENT_SPEC } from '../../spec/deployment-spec';
import { fakeClock, recordingRunner } from '../../testing/fakes';
import { SOCKET_PROBE_SCRIPT } from './compose-backend';
import { SHADOW_LINK_CHECK, SHADOW_LINK_OFF, SHADOW_LINK_ON, composeShadow } from './compose-shadow';

const COMPOSE = 'docker compose -f docker-compose.yml -f docker-compose.blue.yml -f docker-compose.green.yml';
const RELAY = `docker exec ml-shadow-relay node -e ${SOCKET_PROBE_SCRIPT} /tmp/relay/control.sock`;

/**
 * A scripted relay container and nginx link: the relay answers its control calls (unless `missing`
 * until `up` starts it), counts what `forward` says, writes a capture when asked; the link in the
 * nginx container is made and removed by the shell lines the backend runs.
 */
function scripted(options: { missing?: boolean; linkOn?: boolean } = {}) {
  let running = !options.missing;
  let link = options.linkOn ?? false;
  let percent = 100;
  let capture: RelayStatus['capture'] = null;
  const counters = { received: 10, sampledOut: 0, dropped: 0, forwarded: 9, failed: 1 };
  const relay = (): RelayStatus => ({
    ...counters,
    lastError: null,
    percent,
    queueSize: 1000,
    queued: 0,
    inFlight: 0,
    targetSockets: ['/run/mlbg/preview/r1.sock', '/run/mlbg/preview/r2.sock'],
    capture,
  });
  const answer = (body: unknown) => ({ stdout: `${JSON.stringify({ status: 200, headers: {}, body: JSON.stringify(body) })}\n` });
  const runner = recordingRunner([
    {
      match: (line) => line.endsWith(`docker exec ml-nginx sh -c ${SHADOW_LINK_CHECK}`),
      result: () => ({ stdout: link ? 'on\n' : 'off\n' }),
    },
    { match: (line) => line.endsWith(`docker exec ml-nginx sh -c ${SHADOW_LINK_ON}`), result: () => ((link = true), {}) },
    { match: (line) => line.endsWith(`docker exec ml-nginx sh -c ${SHADOW_LINK_OFF}`), result: () => ((link = false), {}) },
    { match: (line) => line.endsWith('up -d --no-deps --no-build shadow-relay'), result: () => ((running = true), {}) },
    {
      match: (line) => line.startsWith(RELAY),
      result: (line) => {
        if (!running) return { code: 1, stderr: 'service "shadow-relay" is not running' };
        if (line.endsWith(' GET /_relay/status')) {
          // The capture finishes at the first look after it started.
          if (capture?.active) capture = { ...capture, captured: capture.n, active: false };
          return answer(relay());
        }
        const body = JSON.parse(
          line
            .slice(line.indexOf(' POST ') + ' POST '.length)
            .split(' ')
            .slice(1)
            .join(' '),
        ) as {
          percent?: number;
          name?: string;
          n?: number;
        };
        if (line.includes(' POST /_relay/config ')) percent = body.percent ?? percent;
        if (line.includes(' POST /_relay/capture ') && body.name)
          capture = { file: `/tmp/relay/${body.name}`, n: body.n ?? 0, captured: 0, active: true };
        return answer(relay());
      },
    },
    {
      match: (line) => line.includes('docker exec ml-shadow-relay cat /tmp/relay/capture-'),
      result: { stdout: '{"features":[[1]]}\n{"features":[[2]]}\n' },
    },
    { match: (line) => line.includes('docker exec ml-shadow-relay rm -f /tmp/relay/capture-'), result: {} },
  ]);
  const progress: string[] = [];
  const shadow = composeShadow(
    {
      spec: DEFAULT_DEPLOYMENT_SPEC,
      run: runner,
      http: async () => ({ status: 200, headers: {}, body: '' }),
      workspaceRoot: '/srv',
      composeCommand: ['docker', 'compose'],
      execCommand: ['docker', 'exec'],
    },
    { clock: fakeClock(), progress: (line) => progress.push(line) },
  );
  return { shadow, runner, progress, link: () => link, percent: () => percent };
}

describe('shadow traffic on Compose (a scripted relay container and nginx: no Docker engine here)', () => {
  it('on: the relay gets the share to forward through its control socket inside its container, then nginx gets the link; no reload', async () => {
    const fake = scripted();
    const status = await fake.shadow.on({ percent: 25, queueSize: 1000 });
    expect(status).toMatchObject({ on: true, percent: 25, relay: { received: 10, forwarded: 9 } });
    const lines = fake.runner.lines();
    // The share is set before nginx copies anything to the relay.
    expect(lines.findIndex((line) => line.includes(' POST /_relay/config {"percent":25}'))).toBeLessThan(
      lines.findIndex((line) => line.endsWith(SHADOW_LINK_ON)),
    );
    expect(lines.some((line) => line.includes('reload'))).toBe(false);
    expect(SHADOW_LINK_ON).toBe('cd /run/mlbg && ln -sfn shadow-relay.sock shadow.sock.next && mv -fT shadow.sock.next shadow.sock');
  });

  it('on, with no relay container yet (a stack started before it was in the files): starts it with `up -d`, then turns the mirror on', async () => {
    const fake = scripted({ missing: true });
    expect(await fake.shadow.on({ percent: 100, queueSize: 1000 })).toMatchObject({ on: true, percent: 100 });
    expect(fake.runner.lines().filter((line) => line.includes(' up '))).toEqual([`${COMPOSE} up -d --no-deps --no-build shadow-relay`]);
    expect(fake.progress.join('\n')).toContain('starting shadow-relay');
  });

  it("says the queue size is the service's when another one is asked (it is fixed when the relay starts)", async () => {
    const fake = scripted();
    await fake.shadow.on({ percent: 100, queueSize: 50 });
    expect(fake.progress.join('\n')).toContain("the relay's queue holds 1000 copies (RELAY_QUEUE_SIZE of its service");
  });

  it('off: the link goes first, the relay stays running (idle), and the counters it had are returned', async () => {
    const fake = scripted({ linkOn: true });
    const result = await fake.shadow.off();
    expect(result).toMatchObject({ on: false, percent: null, final: { received: 10, forwarded: 9, failed: 1 } });
    expect(fake.link()).toBe(false);
    expect(fake.runner.lines().filter((line) => / (stop|kill|down)\b|rm -f ml-shadow-relay|rm -f shadow-relay/.test(line))).toEqual([]);
  });

  it('status says when nginx copies to a relay that does not answer (the copies fail, live requests do not)', async () => {
    const fake = scripted({ missing: true, linkOn: true });
    const status = await fake.shadow.status();
    expect(status).toMatchObject({ on: true, relay: null });
    expect(status.notes.join(' ')).toMatch(/does not answer: .*"shadow-relay" is not running.*its restart policy brings it back/);
  });

  it('capture with shadow off: the mirror on at 0% for the capture only, the file read out of the container and removed there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlbg-compose-capture-'));
    try {
      const fake = scripted();
      const file = join(dir, 'live.jsonl');
      const result = await fake.shadow.capture({ n: 2, file, timeoutMs: 10_000, queueSize: 1000 });
      expect(result).toEqual({ file, n: 2, captured: 2, timedOut: false, shadowWasOff: true });
      expect(readFileSync(file, 'utf8')).toBe('{"features":[[1]]}\n{"features":[[2]]}\n');
      const lines = fake.runner.lines();
      expect(lines.filter((line) => line.includes(' POST /_relay/config '))).toEqual([`${RELAY} POST /_relay/config {"percent":0}`]);
      expect(lines.some((line) => /docker exec ml-shadow-relay rm -f \/tmp\/relay\/capture-\d+-[0-9a-f]{8}\.jsonl$/.test(line))).toBe(true);
      // Off again afterwards.
      expect(fake.link()).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
