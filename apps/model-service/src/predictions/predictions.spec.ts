import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PredictionsResponse, SHADOW_HEADER } from '@mlbg/contract';
import { buildTestApp, expectedPrediction, readModelCard } from '../testing/test-app';
import { ClassificationAnswer, classifierFormat } from '../model/classification-answer';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  MAX_KEPT_INPUT_BYTES,
  MAX_KEPT_OUTPUT_VALUES,
  MAX_LOG_BYTES,
  MAX_REQUEST_ID_LENGTH,
  MAX_RECORDED_ROWS,
  PredictionLog,
  inputDigest,
} from './prediction-log';

const FLOAT32_TOLERANCE = 1e-5;

/** A real POST over a real port, so the request takes the node:http fast path (inject never does). */
function postOverPort(app: NestFastifyApplication, body: string, headers: Record<string, string> = {}): Promise<number> {
  const { port } = app.getHttpServer().address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/predict',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('prediction records (real app, real onnxruntime)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await buildTestApp('v1.0.0', { COLOR: 'blue', PREDICTION_LOG_SIZE: '3' });
    await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  const records = async (query = '') =>
    PredictionsResponse.parse((await app.inject({ method: 'GET', url: `/admin/predictions${query}` })).json());

  it('keeps request id, input digest, outputs, latency and shadow or live, on both /predict paths, the last N only', async () => {
    const card = readModelCard('v1.0.0');
    expect(await postOverPort(app, '{"features": [[1], [2]]}', { 'x-request-id': 'fast-1' })).toBe(200);
    await app.inject({
      method: 'POST',
      url: '/predict',
      headers: { 'content-type': 'application/json', 'x-request-id': 'slow-1', [SHADOW_HEADER]: '1' },
      payload: '{"features":[[1],[2]]}',
    });
    await postOverPort(app, '{"features": [[3]]}', { 'x-request-id': 'fast-2' });
    await postOverPort(app, '{"features": [[4]]}', { 'x-request-id': 'fast-3', [SHADOW_HEADER]: '1' });

    const answer = await records();
    expect(answer).toMatchObject({ color: 'blue', version: 'v1.0.0', capacity: 3, recorded: 4 });
    expect(answer.records.map((r) => [r.seq, r.requestId, r.shadow])).toEqual([
      [2, 'slow-1', true],
      [3, 'fast-2', false],
      [4, 'fast-3', true],
    ]);
    const [slow, three] = answer.records;
    expect(slow.outputs.map(([value]) => value)).toEqual([
      expect.closeTo(expectedPrediction(card, [1]), 4),
      expect.closeTo(expectedPrediction(card, [2]), 4),
    ]);
    expect(slow.inputDigest).toBe(inputDigest(new Float32Array([1, 2])));
    expect(three.rows).toBe(1);
    expect(Math.abs((three.outputs[0]?.[0] ?? NaN) - expectedPrediction(card, [3]))).toBeLessThan(FLOAT32_TOLERANCE * 100);
    expect(three.latencyMs).toBeGreaterThan(0);
    expect((await records('?after=3')).records.map((r) => r.requestId)).toEqual(['fast-3']);
    expect((await records('?limit=1')).records.map((r) => r.requestId)).toEqual(['slow-1']);
  });

  it('the same numbers written differently have the same digest on the fast path and the Fastify route', async () => {
    await postOverPort(app, '{"features":[[5]]}', { 'x-request-id': 'a' });
    await app.inject({
      method: 'POST',
      url: '/predict',
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'b' },
      payload: '{ "features" : [ [ 5.0 ] ] }',
    });
    const [a, b] = (await records()).records.slice(-2);
    expect([a.requestId, b.requestId]).toEqual(['a', 'b']);
    expect(a.inputDigest).toBe(b.inputDigest);
  });

  it('V2 infer is recorded too, with the digest and outputs /predict gives the same numbers', async () => {
    await postOverPort(app, '{"features":[[6],[7]]}', { 'x-request-id': 'p' });
    const v2 = await app.inject({
      method: 'POST',
      url: '/v2/models/model/infer',
      headers: { 'content-type': 'application/json', 'x-request-id': 'v', [SHADOW_HEADER]: '1' },
      payload: JSON.stringify({ inputs: [{ name: 'features', shape: [2, 1], datatype: 'FP32', data: [6, 7] }] }),
    });
    expect(v2.statusCode).toBe(200);
    const [p, v] = (await records()).records.slice(-2);
    expect(v).toMatchObject({ requestId: 'v', route: 'v2-infer', shadow: true, rows: 2, inputDigest: p?.inputDigest });
    expect(v?.outputs).toEqual(p?.outputs);
  });

  it('does not record rejected requests, and a bad query is a 422 naming the parameter', async () => {
    const before = (await records()).recorded;
    await postOverPort(app, '{"features": [[1, 2]]}');
    expect((await records()).recorded).toBe(before);
    const bad = await app.inject({ method: 'GET', url: '/admin/predictions?after=x' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail[0].loc).toEqual(['query', 'after']);
  });

  it('PREDICTION_LOG_SIZE=0 records nothing; a bad value is refused at start-up', async () => {
    const off = await buildTestApp('v1.0.0', { PREDICTION_LOG_SIZE: '0' });
    await off.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: '{"features":[[1]]}' });
    expect((await off.inject({ method: 'GET', url: '/admin/predictions' })).json()).toMatchObject({
      capacity: 0,
      recorded: 0,
      records: [],
    });
    await off.close();
    await expect(buildTestApp('v1.0.0', { PREDICTION_LOG_SIZE: '-1' })).rejects.toThrow(/PREDICTION_LOG_SIZE="-1"/);
  });
});

describe('PredictionLog', () => {
  it("records a classifier's answer without making its probability rows, which it makes only when read", () => {
    const log = new PredictionLog(2);
    const answer = new ClassificationAnswer(new Float32Array([0.25, 0.75, 0.5, 0.5]), ['b', 'a'], 2, classifierFormat(['a', 'b'], 'v'));
    const madeRows = jest.spyOn(ClassificationAnswer.prototype, 'probabilities', 'get');
    try {
      log.record({ requestId: 'c', shadow: false, startedAt: performance.now(), route: 'predict' }, new Float32Array(8), 2, answer);
      expect(madeRows).not.toHaveBeenCalled();
      expect(log.since()[0]).toMatchObject({
        outputs: [
          [0.25, 0.75],
          [0.5, 0.5],
        ],
        labels: ['b', 'a'],
        truncated: false,
      });
      expect(madeRows).toHaveBeenCalled();
    } finally {
      madeRows.mockRestore();
    }
  });

  it('keeps at most MAX_RECORDED_ROWS rows of a large batch and says so', () => {
    const log = new PredictionLog(2);
    const rows = MAX_RECORDED_ROWS + 5;
    log.record({ requestId: 'r', shadow: false, startedAt: performance.now(), route: 'predict' }, new Float32Array(rows), rows, {
      predictions: new Array<number>(rows).fill(1),
      model_version: 'v',
    });
    const [record] = log.since();
    expect(record).toMatchObject({ rows, truncated: true });
    expect(record?.outputs).toHaveLength(MAX_RECORDED_ROWS);
  });

  it('a small batch is digested when read, with the digest of the input it answered and the time it was recorded', () => {
    const log = new PredictionLog(2);
    const before = Date.now();
    log.record({ requestId: 'a', shadow: false, startedAt: performance.now(), route: 'predict' }, new Float32Array([1, 2, 3]), 1, {
      predictions: [7],
      model_version: 'v',
    });
    log.record({ requestId: 'b', shadow: false, startedAt: performance.now(), route: 'predict' }, new Float32Array([1, 2, 4]), 1, {
      predictions: [8],
      model_version: 'v',
    });
    const [first, second] = log.since();
    expect(first).toMatchObject({
      requestId: 'a',
      inputDigest: inputDigest(new Float32Array([1, 2, 3])),
      outputs: [[7]],
      truncated: false,
    });
    expect(second).toMatchObject({ requestId: 'b', inputDigest: inputDigest(new Float32Array([1, 2, 4])), outputs: [[8]] });
    expect(first?.inputDigest).not.toBe(second?.inputDigest);
    expect(Date.parse(first?.time ?? '')).toBeGreaterThanOrEqual(before - 1);
    expect(log.since(1)).toEqual([second]);
  });

  it('a wide input is digested at once, to the same digest, so a slot never keeps more than MAX_KEPT_INPUT_BYTES of input', () => {
    const log = new PredictionLog(1);
    const wide = new Float32Array(MAX_KEPT_INPUT_BYTES / 4 + 1).map((_, i) => i);
    const expected = inputDigest(wide);
    log.record({ requestId: 'w', shadow: false, startedAt: performance.now(), route: 'predict' }, wide, 1, {
      predictions: [1],
      model_version: 'v',
    });
    wide.fill(0); // what the slot kept must not be the tensor itself
    expect(log.since()[0]).toMatchObject({ requestId: 'w', inputDigest: expected, rows: 1, outputs: [[1]], truncated: false });
  });

  it('a classifier answer keeps its labels and probabilities', () => {
    const log = new PredictionLog(1);
    log.record({ requestId: 'c', shadow: true, startedAt: performance.now(), route: 'predict' }, new Float32Array(2), 1, {
      predictions: ['b'],
      probabilities: [[0.25, 0.75]],
      classes: ['a', 'b'],
      model_version: 'v',
    });
    expect(log.since()[0]).toMatchObject({ labels: ['b'], outputs: [[0.25, 0.75]], shadow: true });
  });
});

describe('PredictionLog is bounded in bytes, whatever the model answers and the client sends', () => {
  const meta = (requestId: string) => ({ requestId, shadow: false, startedAt: performance.now(), route: 'predict' as const });
  /** A classifier's answer to a batch: one label and one probability per class for each row, fresh numbers each time. */
  const classNames = (classes: number) => Array.from({ length: classes }, (_, i) => `class-${i}`);
  const classifierAnswer = (rows: number, classes: number, names = classNames(classes)) => {
    const probabilities: number[][] = [];
    for (let row = 0; row < rows; row += 1) {
      const values = new Array<number>(classes);
      for (let i = 0; i < classes; i += 1) values[i] = Math.random();
      probabilities.push(values);
    }
    return {
      predictions: probabilities.map((_, row) => names[row % classes] as string),
      probabilities,
      classes: names,
      model_version: 'v',
    };
  };

  it('keeps at most MAX_KEPT_OUTPUT_VALUES numbers of a wide answer (a 1,000-class model, a 100-row batch), and says so', () => {
    const log = new PredictionLog(2);
    log.record(meta('wide'), new Float32Array(100), 100, classifierAnswer(100, 1000));
    const [record] = log.since();
    expect(record).toMatchObject({ rows: 100, truncated: true });
    expect(record?.outputs.flat().length).toBeLessThanOrEqual(MAX_KEPT_OUTPUT_VALUES);
    expect(record?.outputs.length).toBeGreaterThan(0);
    expect(record?.outputs.every((row) => row.length === 1000)).toBe(true);
    expect(record?.labels).toHaveLength(record?.outputs.length ?? -1);
  });

  it('digests an answer whose one row is wider than a record keeps (outputsDigest): equal numbers, equal digests', () => {
    const log = new PredictionLog(3);
    const answer = classifierAnswer(2, MAX_KEPT_OUTPUT_VALUES + 1);
    log.record(meta('a'), new Float32Array(2), 2, answer);
    log.record(meta('b'), new Float32Array(2), 2, structuredClone(answer));
    log.record(meta('c'), new Float32Array(2), 2, classifierAnswer(2, MAX_KEPT_OUTPUT_VALUES + 1));
    const [a, b, c] = log.since();
    expect(a).toMatchObject({ rows: 2, outputs: [], truncated: true, outputsDigest: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(b?.outputsDigest).toBe(a?.outputsDigest);
    expect(c?.outputsDigest).not.toBe(a?.outputsDigest);
  });

  it('cuts a long request id to MAX_REQUEST_ID_LENGTH, the same way for the same id (the colors still join on it)', () => {
    const log = new PredictionLog(3);
    const long = `req-${'x'.repeat(8000)}`;
    log.record(meta(long), new Float32Array(1), 1, { predictions: [1], model_version: 'v' });
    log.record(meta(long), new Float32Array(1), 1, { predictions: [1], model_version: 'v' });
    log.record(meta(`${long}y`), new Float32Array(1), 1, { predictions: [1], model_version: 'v' });
    const [first, again, other] = log.since().map((record) => record.requestId);
    expect(first?.length).toBeLessThanOrEqual(MAX_REQUEST_ID_LENGTH);
    expect(first?.startsWith('req-xxx')).toBe(true);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(log.since()[0]?.requestId).not.toBe(long);
  });

  it('holds at most MAX_LOG_BYTES on the heap, dropping its oldest records first: 60 slots of 1,000-class answers to 100-row batches', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const log = new PredictionLog(60);
    const names = classNames(1000);
    for (let i = 1; i <= 60; i += 1) log.record(meta(`r-${i}`), new Float32Array(100), 100, classifierAnswer(100, 1000, names));
    gc();
    const held = process.memoryUsage().heapUsed - before;
    expect(held).toBeLessThan(MAX_LOG_BYTES * 1.5);
    const kept = log.since();
    // The newest are kept, in order; what no longer fits is gone, never a gap in the middle.
    expect(kept.at(-1)?.requestId).toBe('r-60');
    expect(kept.map((record) => record.seq)).toEqual(kept.map((_, i) => 60 - kept.length + 1 + i));
    expect(log.recorded).toBe(60);
  });

  it('drops its oldest records, never one in the middle, when the next would take it over its byte budget', () => {
    const budget = 70_000;
    const log = new PredictionLog(50, budget);
    for (let i = 1; i <= 50; i += 1) log.record(meta(`r-${i}`), new Float32Array(4), 4, classifierAnswer(4, 1000));
    const kept = log.since();
    // Each record keeps 4,000 numbers (32 KB): two fit in 70 KB, a third does not.
    expect(kept.map((record) => record.requestId)).toEqual(['r-49', 'r-50']);
    expect(log.since(48).map((record) => record.seq)).toEqual([49, 50]);
    expect(log.since(0, 1).map((record) => record.seq)).toEqual([49]);
    expect(log.recorded).toBe(50);
  });
});
