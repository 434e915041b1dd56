import type { Color } from '@mlbg/contract';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, ReleaseRequest, ReleaseResult } from '../../backends/backend';
import { stackLayout } from '../../backends/local/layout';
import { DeployError } from '../../errors';
import { gatesNamed } from '../../gates';
import { readHistory } from '../../history/history';
import { DEFAULT_DEPLOYMENT_SPEC } from '../../spec/deployment-spec';
import { type FakeColor, fakeBackend, fakeClock } from '../../testing/fakes';
import { type CommandContext, stateFolderStores } from '../context';
import { releaseToIdle } from './stack';

/** A fake deployment whose release puts a model (named by version and feature count, e.g. "v1.2.0x1") on the idle color. */
function releasingBackend(live: Color) {
  const colors: Record<Color, FakeColor> = { blue: { version: 'v1.0.0', featureCount: 1 }, green: { version: 'v1.1.0', featureCount: 1 } };
  const models: Record<Color, string> = { blue: 'v1.0.0x1', green: 'v1.1.0x1' };
  const base = fakeBackend({ live, colors });
  const releases: ReleaseRequest[] = [];
  const backend: Backend & { releases: ReleaseRequest[]; moves: Color[]; live: () => Color } = Object.assign(base, {
    releases,
    release: async (request: ReleaseRequest): Promise<ReleaseResult> => {
      releases.push(request);
      const color = request.color ?? (base.live() === 'blue' ? 'green' : 'blue');
      if (color === base.live()) throw new DeployError('LIVE_COLOR_RELEASE', `${color} is live.`);
      const [version = '', features = '1'] = (request.model ?? '').split('x');
      const previous = models[color];
      models[color] = request.model ?? previous;
      colors[color] = { version, featureCount: Number(features) };
      return {
        color,
        model: models[color],
        previousModel: previous,
        previous: { model: previous, image: null },
        pid: null,
        version,
        featureCount: Number(features),
        modelSha256: null,
        previewUrl: 'http://127.0.0.1:8080/preview/',
        live: { color: base.live(), version: colors[base.live()].version, featureCount: 1 },
        notes: [],
        durationMs: 1,
      };
    },
  });
  return backend;
}

describe('release --switch (what CD runs), on a fake deployment', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-release-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const contextFor = (backend: Backend): CommandContext => ({
    backend,
    ...stateFolderStores(stackLayout(dir, join(dir, 'state'), dir)),
    clock: fakeClock(),
    userName: 'cd',
    progress: () => undefined,
    preflight: gatesNamed(DEFAULT_DEPLOYMENT_SPEC.gates.preflight),
  });
  // The outcomes (each moving switch also records its intent first).
  const history = () => readHistory(join(dir, 'state', 'history.jsonl')).entries.filter((entry) => entry.command !== 'switch-intent');

  it('given blue live, when v1.2.0 is released with --switch, then green serves it live and the history has both steps', async () => {
    const backend = releasingBackend('blue');
    const result = await releaseToIdle(contextFor(backend), { model: 'v1.2.0x1', switch: true });
    expect(result).toMatchObject({
      color: 'green',
      version: 'v1.2.0',
      switch: { kind: 'switched', from: 'blue', to: 'green', toVersion: 'v1.2.0' },
    });
    expect(backend.live()).toBe('green');
    expect(history().map((entry) => `${entry.command} ${entry.outcome}`)).toEqual(['release released', 'switch switched']);
  });

  it('given blue live, when the released model takes other inputs, then the switch is refused and green is put back on its previous model', async () => {
    const backend = releasingBackend('blue');
    const error = await releaseToIdle(contextFor(backend), { model: 'v2.0.0x4', switch: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeployError);
    expect(error).toMatchObject({ code: 'PREFLIGHT_FAILED', message: expect.stringContaining('input signature differs') });
    expect((error as DeployError).message).toContain('green runs v1.1.0 again.');
    expect(backend.live()).toBe('blue');
    expect(backend.moves).toEqual([]);
    expect(backend.releases).toEqual([{ model: 'v2.0.0x4' }, { color: 'green', model: 'v1.1.0x1' }]);
    expect(history().map((entry) => `${entry.command} ${entry.outcome}`)).toEqual([
      'release released',
      'switch refused',
      'release released',
    ]);
  });

  it('refuses to switch to a release that is not the version CD expects (--expect-version), and puts it back', async () => {
    const backend = releasingBackend('blue');
    const error = await releaseToIdle(contextFor(backend), { model: 'v1.2.0x1', switch: true, expectVersion: 'v1.3.0' }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({
      code: 'PREFLIGHT_FAILED',
      message: expect.stringContaining('answered version v1.2.0, but expected v1.3.0: required by --expect-version'),
    });
    expect(backend.live()).toBe('blue');
    expect(backend.releases).toHaveLength(2);
  });

  it.each([
    { model: 'models/v1.2.0/model.onnx\nGREEN_IMAGE=evil/img' },
    { model: 'models/v1.2.0/\u0000model.onnx' },
    { image: 'evil/img\nBLUE_MODEL=x' },
    { image: 'Not An Image' },
  ])('refuses %j before anything (a clear USAGE error; no lock, no release, no history)', async (request) => {
    const backend = releasingBackend('blue');
    await expect(releaseToIdle(contextFor(backend), { ...request, switch: true })).rejects.toMatchObject({ code: 'USAGE' });
    expect(backend.releases).toEqual([]);
    expect(history()).toEqual([]);
  });

  it('records a refused release (to the live color) and changes nothing', async () => {
    const backend = releasingBackend('blue');
    await expect(releaseToIdle(contextFor(backend), { model: 'v1.2.0x1', color: 'blue', switch: true })).rejects.toMatchObject({
      code: 'LIVE_COLOR_RELEASE',
    });
    expect(history()).toEqual([expect.objectContaining({ command: 'release', outcome: 'refused', color: 'blue' })]);
    expect(backend.moves).toEqual([]);
  });
});
