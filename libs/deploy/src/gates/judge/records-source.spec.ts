import type { Color, PredictionRecord, PredictionsResponse } from '@mlbg/contract';
import type { HttpCall } from '../../effects/deps';
import type { ColorAccess } from '../gate';
import { RECORDS_PAGE, colorWindow, liveAnswers, recordsMark, recordsSince, shadowPairs } from './records-source';

/** A color's /admin/predictions as the service answers it: a ring buffer of `capacity` records, `?after=` and `?limit=`. */
function fakeColor(options: { capacity: number; made: number; shadowEvery?: number }) {
  const calls: string[] = [];
  let made = options.made;
  const record = (seq: number): PredictionRecord => ({
    seq,
    requestId: `r${seq}`,
    time: 't',
    route: 'predict',
    inputDigest: 'd',
    rows: 1,
    outputs: [[seq]],
    truncated: false,
    latencyMs: 1,
    shadow: options.shadowEvery !== undefined && seq % options.shadowEvery === 0,
  });
  const access: ColorAccess = {
    health: () => Promise.reject(new Error('not used')),
    predict: () => Promise.reject(new Error('not used')),
    recorded: () => undefined,
    request: async (_color: Color, call: HttpCall) => {
      calls.push(call.path);
      const query = new URLSearchParams(call.path.split('?')[1]);
      const after = Number(query.get('after') ?? 0);
      const limit = Number(query.get('limit') ?? options.capacity);
      const first = Math.max(after + 1, made - options.capacity + 1, 1);
      const last = Math.min(made, first + limit - 1);
      const records = Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => record(first + i));
      const body: PredictionsResponse = { color: 'green', version: 'v1.0.1', capacity: options.capacity, recorded: made, records };
      return { status: 200, headers: {}, body: JSON.stringify(body) };
    },
  };
  return { access, calls, make: (count: number) => (made += count), restart: () => (made = 0) };
}

describe("the judge's answers from the colors' prediction records", () => {
  it('reads what a color answered in the window, in pages, from the mark taken at its start', async () => {
    const color = fakeColor({ capacity: 100_000, made: 500 });
    const mark = await recordsMark(color.access, 'green');
    expect(mark).toEqual(new Map([['', 500]]));
    color.make(RECORDS_PAGE + 20);
    const window = await recordsSince(color.access, 'green', mark);
    expect(window.records).toHaveLength(RECORDS_PAGE + 20);
    expect(window.records[0]?.seq).toBe(501);
    expect(window).toMatchObject({ missed: 0, version: 'v1.0.1', capacity: 100_000 });
    expect(window.mark).toEqual(new Map([['', 500 + RECORDS_PAGE + 20]]));
    expect(color.calls).toEqual([
      '/admin/predictions?limit=0',
      `/admin/predictions?after=500&limit=${RECORDS_PAGE}`,
      `/admin/predictions?after=${500 + RECORDS_PAGE}&limit=${RECORDS_PAGE}`,
    ]);
  });

  it('says how many records of the window the ring buffer lost', async () => {
    const color = fakeColor({ capacity: 50, made: 10 });
    color.make(80);
    const window = await recordsSince(color.access, 'green', new Map([['', 10]]));
    expect(window.records.map((record) => record.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 41 + i));
    expect(window.missed).toBe(30);
  });

  it('reads a restarted color from its first record', async () => {
    const color = fakeColor({ capacity: 1000, made: 300 });
    color.restart();
    color.make(7);
    const window = await recordsSince(color.access, 'green', new Map([['', 300]]));
    expect(window.records.map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("keeps live answers only (no shadow copies, replays or the canary's own probes) and pairs shadow copies", async () => {
    const color = fakeColor({ capacity: 1000, made: 0, shadowEvery: 2 });
    color.make(6);
    const { records } = await recordsSince(color.access, 'green', new Map([['', 0]]));
    expect(liveAnswers(records, new Set(['r3']))).toEqual([{ outputs: [[1]] }, { outputs: [[5]] }]);
    const window = colorWindow('green', [{ status: 200, ms: 1 }], records);
    expect(window.answers).toHaveLength(3);
    // The stable's live r1 and the canary's shadow copy of r1.
    const stable = records.filter((record) => !record.shadow);
    const canary = records.map((record) => ({ ...record, shadow: true }));
    expect(shadowPairs(stable, canary).map((pair) => pair.requestId)).toEqual(['r1', 'r3', 'r5']);
  });
});
