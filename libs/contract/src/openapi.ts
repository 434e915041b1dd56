import { z } from 'zod';
import { ErrorBody } from './errors';
import { HealthResponse, LivenessResponse } from './health';
import { PredictResponse, predictRequestFor, PredictRequest } from './predict';

export interface OpenApiOptions {
  /** The model version the document describes, shown in `info`. */
  modelVersion?: string;
  /** When known, the document states the exact number of features per row. */
  featureCount?: number;
}

/** A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) for a zod schema. */
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
  return rest;
}

function jsonContent(ref: string) {
  return { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } };
}

function errorResponse(description: string) {
  return { description, content: jsonContent('ErrorBody') };
}

const VERSION_HEADERS = {
  'X-Model-Version': { description: 'Version of the model that answered.', schema: { type: 'string' } },
  'X-Color': { description: 'Color (blue or green) of the service that answered.', schema: { type: 'string' } },
};

/** The OpenAPI 3.1 document of the HTTP API, built from the contract's zod schemas. */
export function buildOpenApiDocument(options: OpenApiOptions = {}) {
  const request = options.featureCount ? predictRequestFor({ featureCount: options.featureCount }) : PredictRequest;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Model service',
      version: options.modelVersion ?? '0.0.0',
      description: 'Serves one ONNX model. Every response names the model version and the color that answered.',
    },
    paths: {
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Readiness: 200 with status "ok" once the model is loaded and warmed up, 503 otherwise.',
          responses: {
            '200': { description: 'Ready.', headers: VERSION_HEADERS, content: jsonContent('HealthResponse') },
            '503': { description: 'Starting, draining or broken.', content: jsonContent('HealthResponse') },
          },
        },
      },
      '/health/live': {
        get: {
          operationId: 'liveness',
          summary: 'Liveness: 200 while the process runs.',
          responses: { '200': { description: 'Alive.', content: jsonContent('LivenessResponse') } },
        },
      },
      '/predict': {
        post: {
          operationId: 'predict',
          summary: 'One prediction per row of features, in order.',
          requestBody: {
            required: true,
            content: jsonContent('PredictRequest'),
          },
          responses: {
            '200': { description: 'Predictions.', headers: VERSION_HEADERS, content: jsonContent('PredictResponse') },
            '400': errorResponse('The body is not valid JSON.'),
            '413': errorResponse('Too many rows, or the body is too large.'),
            '415': errorResponse('The body is not JSON.'),
            '422': errorResponse('The body does not match the schema; `detail` lists each problem.'),
            '503': errorResponse('The model is not ready.'),
          },
        },
      },
    },
    components: {
      schemas: {
        PredictRequest: {
          ...jsonSchema(request),
          example: { features: [[1], [2], [3]] },
        },
        PredictResponse: jsonSchema(PredictResponse),
        HealthResponse: jsonSchema(HealthResponse),
        LivenessResponse: jsonSchema(LivenessResponse),
        ErrorBody: jsonSchema(ErrorBody),
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
