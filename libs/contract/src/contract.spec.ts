import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { z } from 'zod';
import {
  API_ERRORS,
  appRouter,
  buildOpenApiDocument,
  ErrorBody,
  HealthResponse,
  ModelMetadata,
  otherColor,
  PredictRequest,
  predictRequestFor,
  PredictResponse,
  predictionOutputs,
  type AppRouter,
  type ModelProcedures,
} from './index';

/** Compile-time equality: a drift between schemas and the types clients rely on fails type-checking (`nx run contract:typecheck`). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

describe("the original design's shapes", () => {
  it('accepts the original /health answer, with or without extra keys', () => {
    const original = { status: 'ok', version: 'v1.0.0' };
    expect(HealthResponse.pick({ status: true, version: true }).parse(original)).toEqual(original);
    const ours = { ...original, color: 'blue', feature_count: 1, model_sha256: 'abc', uptime_seconds: 3, extra: true };
    expect(HealthResponse.parse(ours)).toMatchObject({ extra: true });
  });

  it('accepts the original /predict example and its answer', () => {
    expect(PredictRequest.parse({ features: [[1], [2], [3]] })).toEqual({ features: [[1], [2], [3]] });
    const answer = { predictions: [1.5, 2, 3], model_version: 'v1.0.0' };
    expect(PredictResponse.parse(answer)).toEqual(answer);
  });

  it('rejects what must never reach a model', () => {
    for (const bad of [
      {},
      { features: [] },
      { features: [[]] },
      { features: [['1']] },
      { features: [[Infinity]] },
      { features: [[NaN]] },
      { features: [[null]] },
    ]) {
      expect(PredictRequest.safeParse(bad).success).toBe(false);
    }
  });

  it('pins the feature count when a service knows it', () => {
    const schema = predictRequestFor({ featureCount: 3 });
    expect(schema.safeParse({ features: [[1, 2, 3]] }).success).toBe(true);
    const wrong = schema.safeParse({ features: [[1, 2]] });
    expect(wrong.success).toBe(false);
    expect(wrong.error?.issues[0]).toMatchObject({ path: ['features', 0], message: 'expected 3 feature(s) per row' });
  });

  it('types follow the schemas', () => {
    assertType<Equal<PredictRequest, { features: number[][] }>>();
    assertType<Equal<PredictResponse, { predictions: number[]; model_version: string }>>();
    assertType<Equal<HealthResponse['status'], 'ok' | 'starting' | 'draining' | 'error'>>();
    assertType<Equal<inferRouterInputs<AppRouter>['predict'], PredictRequest>>();
    assertType<Equal<inferRouterOutputs<AppRouter>['predict'], PredictResponse>>();
    expect(otherColor('blue')).toBe('green');
    expect(otherColor('green')).toBe('blue');
  });
});

describe('model metadata', () => {
  it('parses the string values ONNX stores', () => {
    const parsed = ModelMetadata.parse({
      model_version: 'v1.1.0',
      feature_count: '1',
      training_data_sha256: 'a'.repeat(64),
      training_rows: '320',
      rmse: '0.42',
      model_family: 'polynomial-2',
    });
    expect(parsed).toMatchObject({ feature_count: 1, training_rows: 320, rmse: 0.42 });
  });

  it('refuses a version that is not vX.Y.Z', () => {
    expect(() => ModelMetadata.shape.model_version.parse('1.0')).toThrow(/v1\.0\.0/);
  });
});

describe('error catalogue', () => {
  it('documents every code with a 4xx/5xx status and a message that says what to do', () => {
    for (const [code, entry] of Object.entries(API_ERRORS)) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.message.length).toBeGreaterThan(20);
      expect(ErrorBody.parse({ detail: entry.message, code })).toEqual({ detail: entry.message, code });
    }
  });

  it("keeps FastAPI's 422 body shape", () => {
    const body = {
      detail: [{ loc: ['body', 'features', 0, 0], msg: 'Input should be a valid number', type: 'float_type' }],
      code: 'VALIDATION_FAILED',
    };
    expect(ErrorBody.parse(body)).toEqual(body);
  });
});

describe('OpenAPI document', () => {
  const document = buildOpenApiDocument({ modelVersion: 'v1.0.0', featureCount: 1 });

  it('is OpenAPI 3.1 with the three routes and their error answers', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.version).toBe('v1.0.0');
    expect(Object.keys(document.paths).sort()).toEqual(['/health', '/health/live', '/predict']);
    expect(Object.keys(document.paths['/predict'].post.responses).sort()).toEqual(['200', '400', '413', '415', '422', '503']);
  });

  it('derives its schemas from the zod schemas (a contract change shows here)', () => {
    const request = document.components.schemas.PredictRequest as Record<string, unknown>;
    expect(request).toMatchObject({ type: 'object', required: ['features'], example: { features: [[1], [2], [3]] } });
    expect(request).toEqual({
      ...z.toJSONSchema(predictRequestFor({ featureCount: 1 }), { io: 'output' }),
      $schema: undefined,
      example: { features: [[1], [2], [3]] },
    });
    expect(document.components.schemas.PredictResponse).toMatchObject({ required: ['predictions', 'model_version'] });
    expect(JSON.stringify(document)).not.toContain('$schema');
  });

  it('every $ref points at a component', () => {
    const refs = JSON.stringify(document).match(/#\/components\/schemas\/\w+/g) ?? [];
    for (const ref of refs) expect(document.components.schemas).toHaveProperty(ref.split('/').pop() as string);
  });
});

describe('tRPC router', () => {
  const procedures: ModelProcedures = {
    health: async () => ({ status: 'ok', version: 'v9.9.9', color: 'green', feature_count: 2, model_sha256: 'x', uptime_seconds: 0 }),
    predict: async (input) => ({ predictions: input.features.map((row) => row[0] + row[1]), model_version: 'v9.9.9' }),
  };
  const caller = appRouter.createCaller({ procedures });

  it('validates input with the contract before calling the service', async () => {
    await expect(caller.predict({ features: [] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await caller.predict({ features: [[1, 2]] })).toEqual({ predictions: [3], model_version: 'v9.9.9' });
  });

  it('validates the output too, so a service can not answer off-contract', async () => {
    const broken = appRouter.createCaller({
      procedures: { ...procedures, predict: async () => ({ predictions: 'nope' }) as never },
    });
    await expect(broken.predict({ features: [[1]] })).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    expect((await caller.health()).version).toBe('v9.9.9');
  });
});

describe('predictionOutputs', () => {
  it('makes rows of an answer, all of them or only the first maxRows', () => {
    const regression = { predictions: [1, 2, 3], model_version: 'v' };
    expect(predictionOutputs(regression)).toEqual({ outputs: [[1], [2], [3]] });
    expect(predictionOutputs(regression, 2)).toEqual({ outputs: [[1], [2]] });
    const classifier = {
      predictions: ['a', 'b'],
      probabilities: [
        [0.9, 0.1],
        [0.2, 0.8],
      ],
      classes: ['a', 'b'],
      model_version: 'v',
    };
    expect(predictionOutputs(classifier, 1)).toEqual({ outputs: [[0.9, 0.1]], labels: ['a'] });
    expect(predictionOutputs(classifier, 5)).toEqual({ outputs: classifier.probabilities, labels: classifier.predictions });
  });
});
