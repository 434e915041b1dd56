import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { predictRequestFor } from '@mlbg/contract';
import fc from 'fast-check';
import { buildTestApp } from '../testing/test-app';

/** Anything a client could send: arbitrary JSON, JSON shaped almost like a request, and raw text. */
const nearlyValidBody = fc.record(
  {
    features: fc.oneof(
      fc.array(fc.array(fc.oneof(fc.double(), fc.integer(), fc.double({ min: 1e30, max: 1e300 }), fc.jsonValue()), { maxLength: 4 }), {
        maxLength: 8,
      }),
      fc.jsonValue(),
    ),
  },
  { requiredKeys: [] },
);
const payloads = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  nearlyValidBody.map((value) => JSON.stringify(value)),
  fc.string(),
);

const MAX_ROWS = 6;
const contract = predictRequestFor({ featureCount: 1 });

function isValid(payload: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return false;
  }
  const result = contract.safeParse(parsed);
  return result.success && result.data.features.length <= MAX_ROWS;
}

describe('POST /predict never fails with a 5xx, whatever the body (property test)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await buildTestApp('v1.0.0', { MAX_BATCH_ROWS: String(MAX_ROWS) });
  });
  afterAll(() => app.close());

  it('answers 2xx or 4xx to arbitrary bodies, and 200 exactly for valid ones', async () => {
    await fc.assert(
      fc.asyncProperty(payloads, async (payload) => {
        const response = await app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload });
        expect(response.statusCode).toBeGreaterThanOrEqual(200);
        expect(response.statusCode).toBeLessThan(500);
        const body = response.json();
        // The contract's schema is the oracle: the service's fast check must accept exactly what it accepts.
        expect(response.statusCode === 200).toBe(isValid(payload));
        if (response.statusCode === 200) {
          expect(body.predictions).toHaveLength(JSON.parse(payload).features.length);
        } else {
          expect(typeof body.code).toBe('string');
          expect(body.detail).toBeDefined();
        }
      }),
      { numRuns: 400 },
    );
    const stillUp = await app.inject({ method: 'GET', url: '/health' });
    expect(stillUp.statusCode).toBe(200);
  });
});
