/*
 * Every classifier answer stays byte for byte what it was: the answers in classifier-answers.golden.json
 * were written by the service as it was before the classifier fast path (commit "classifier answers:
 * golden bytes"), and each is compared as a whole string, so one changed byte fails.
 *
 * Rewrite the golden file only when an answer is meant to change:
 *   WRITE_CLASSIFIER_GOLDEN=1 npx jest -c apps/model-service/jest.config.ts apps/model-service/src/predict/classifier-answers.spec.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelService } from '../model/model.service';
import { sendRequest } from '../testing/http-request';
import { buildTestApp } from '../testing/test-app';

const GOLDEN_PATH = resolve(__dirname, 'classifier-answers.golden.json');
const WRITE = process.env['WRITE_CLASSIFIER_GOLDEN'] === '1';

/** Classes as strings (classifier, zipmap-classifier) and as integers (the others); ZipMap; a bare softmax. */
const MODELS = [
  { model: 'classifier', v2Name: 'iris-classifier' },
  { model: 'fixtures/zipmap-classifier', v2Name: 'model' },
  { model: 'fixtures/tree-classifier', v2Name: 'model' },
  { model: 'fixtures/linear-classifier', v2Name: 'model' },
  { model: 'fixtures/torch-softmax-classifier', v2Name: 'model' },
] as const;

interface GoldenCase {
  readonly rows: number[][];
  /** The exact body of `POST /predict`. */
  readonly predict: string;
  /** The exact body of the V2 infer answer for the same rows. */
  readonly v2: string;
}
type Golden = Record<string, GoldenCase[]>;

/** A fixed pseudo-random sequence (mulberry32), so the rows are the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Rows whose probabilities span everything float32 holds: near 1, ordinary, tiny (below 1e-17, where
 * printing takes its slow exact path), subnormal and exactly 0. Iris-scale rows (0..8) with 1 and 2
 * decimals, wider ones (-50..50) that push a linear model to the extremes, and a few fixed ones.
 */
function rowsFor(seed: number): number[][][] {
  const next = random(seed);
  const row = (low: number, high: number, decimals: number) =>
    Array.from({ length: 4 }, () => Number((low + (high - low) * next()).toFixed(decimals)));
  const fixed = [
    [0, 0, 0, 0],
    [5.1, 3.5, 1.4, 0.2],
    [6.7, 3.1, 5.6, 2.4],
    [5.9, 3, 4.2, 1.5],
    [-1, -1, -1, -1],
  ];
  return [
    [[6.3, 2.8, 5.1, 1.5]],
    fixed,
    Array.from({ length: 300 }, () => row(0, 8, 2)),
    Array.from({ length: 200 }, () => row(0, 8, 1)),
    Array.from({ length: 100 }, () => row(-50, 50, 1)),
  ];
}

/** The smallest normal float32: below it, probabilities are subnormal. */
const FLOAT32_MIN_NORMAL = 2 ** -126;

const port = (app: NestFastifyApplication) => (app.getHttpServer().address() as AddressInfo).port;
const JSON_TYPE = { 'content-type': 'application/json' };

describe('classifier answers are byte-identical to the golden ones', () => {
  const golden: Golden = WRITE ? {} : (JSON.parse(readFileSync(GOLDEN_PATH, 'utf8')) as Golden);
  const apps: NestFastifyApplication[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
    if (WRITE) writeFileSync(GOLDEN_PATH, `${JSON.stringify(golden, null, 1)}\n`);
  });

  it.each(MODELS.map((entry, index) => [entry.model, entry.v2Name, index] as const))(
    '%s: /predict on the fast path and on the Fastify route, and V2 infer',
    async (model, v2Name, index) => {
      const app = await buildTestApp(model);
      apps.push(app);
      await app.listen({ port: 0, host: '127.0.0.1' });
      const cases = WRITE ? rowsFor(index + 1).map((rows) => ({ rows, predict: '', v2: '' })) : golden[model];
      expect(cases?.length).toBeGreaterThan(0);
      const answers: GoldenCase[] = [];
      for (const { rows } of cases) {
        const body = JSON.stringify({ features: rows });
        const fast = await sendRequest(port(app), { headers: JSON_TYPE, body }, { method: 'POST', path: '/predict' });
        const route = await app.inject({ method: 'POST', url: '/predict', headers: JSON_TYPE, payload: body });
        const v2 = await app.inject({
          method: 'POST',
          url: `/v2/models/${v2Name}/infer`,
          headers: JSON_TYPE,
          payload: {
            inputs: [{ name: app.get(ModelService).loaded.inputs[0]?.name, shape: [rows.length, 4], datatype: 'FP32', data: rows.flat() }],
          },
        });
        expect([fast.status, route.statusCode, v2.statusCode]).toEqual([200, 200, 200]);
        // The Fastify route answers what the fast path answers.
        expect(route.body).toBe(fast.body);
        answers.push({ rows, predict: fast.body, v2: v2.body });
      }
      if (WRITE) {
        golden[model] = answers;
        return;
      }
      answers.forEach((answer, i) => {
        expect(answer.predict).toBe(cases[i].predict);
        expect(answer.v2).toBe(cases[i].v2);
      });
    },
  );

  it('the golden answers hold every kind of probability and label', () => {
    if (WRITE) return;
    const seen = { tiny: 0, subnormal: 0, zero: 0, one: 0, stringLabels: 0, numberLabels: 0 };
    for (const cases of Object.values(golden)) {
      for (const { predict } of cases) {
        const answer = JSON.parse(predict) as { predictions: unknown[]; probabilities: number[][] };
        for (const label of answer.predictions) seen[typeof label === 'string' ? 'stringLabels' : 'numberLabels'] += 1;
        for (const value of answer.probabilities.flat()) {
          if (value === 0) seen.zero += 1;
          else if (value < FLOAT32_MIN_NORMAL) seen.subnormal += 1;
          else if (value < 1e-17) seen.tiny += 1;
          else if (value === 1) seen.one += 1;
        }
      }
    }
    expect(Object.entries(seen).filter(([, count]) => count < 10)).toEqual([]);
  });
});
