import type { AppRouter } from '@mlbg/contract';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { buildTestApp, expectedPrediction, readModelCard } from '../testing/test-app';

describe('tRPC at /trpc, through a typed client over a real port', () => {
  let app: NestFastifyApplication;
  let client: ReturnType<typeof createTRPCClient<AppRouter>>;

  beforeAll(async () => {
    app = await buildTestApp('v1.1.0', { COLOR: 'green', MAX_BATCH_ROWS: '5' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    client = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${await app.getUrl()}/trpc` })] });
  });
  afterAll(() => app.close());

  it('health answers the same report as GET /health', async () => {
    const health = await client.health.query();
    expect(health).toMatchObject({ status: 'ok', version: 'v1.1.0', color: 'green', feature_count: 1 });
  });

  it('predict runs the model', async () => {
    const result = await client.predict.mutate({ features: [[1], [2], [3]] });
    expect(result.model_version).toBe('v1.1.0');
    const card = readModelCard('v1.1.0');
    result.predictions.forEach((value, i) => expect(value).toBeCloseTo(expectedPrediction(card, [i + 1]), 3));
  });

  it('refuses a wrong feature count as BAD_REQUEST, and too many rows as PAYLOAD_TOO_LARGE', async () => {
    const wrongWidth = client.predict.mutate({ features: [[1, 2]] });
    await expect(wrongWidth).rejects.toBeInstanceOf(TRPCClientError);
    await expect(wrongWidth).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', httpStatus: 400 } });
    const tooMany = client.predict.mutate({ features: Array.from({ length: 6 }, () => [1]) });
    await expect(tooMany).rejects.toMatchObject({ data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 } });
  });

  it('refuses input that does not match the schema before it reaches the model', async () => {
    const bad = client.predict.mutate({ features: [['x']] } as unknown as { features: number[][] });
    await expect(bad).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
    expect((await client.predict.mutate({ features: [[1]] })).predictions).toHaveLength(1);
  });
});

describe('tRPC predict on a model that does not answer one number per row', () => {
  it('is PRECONDITION_FAILED and points at /predict and V2', async () => {
    const app = await buildTestApp('classifier');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const client = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${await app.getUrl()}/trpc` })] });
    const answer = client.predict.mutate({ features: [[5.1, 3.5, 1.4, 0.2]] });
    await expect(answer).rejects.toMatchObject({ data: { code: 'PRECONDITION_FAILED' } });
    await expect(answer).rejects.toThrow(/a classifier.*POST \/predict or POST \/v2/);
    // tRPC's inferred output of the loose /health schema types extra keys as unknown.
    expect((await client.health.query()).signature).toMatchObject({ task: 'classification' });
    await app.close();
  });
});
