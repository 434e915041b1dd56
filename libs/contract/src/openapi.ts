import { z } from 'zod';
import { ErrorBody } from './errors';
import { HealthResponse, LivenessResponse } from './health';
import { ClassificationPredictResponse, MultiTargetPredictResponse, PredictResponse, predictRequestFor, PredictRequest } from './predict';
import { ModelInfoResponse, type ModelSignature, type NumericInputDatatype } from './signature';
import {
  V2ErrorBody,
  V2InferRequest,
  V2InferResponse,
  V2ModelMetadataResponse,
  V2ModelReadyResponse,
  V2ServerLiveResponse,
  V2ServerMetadataResponse,
  V2ServerReadyResponse,
} from './v2';

export interface OpenApiOptions {
  /** The model version the document describes, shown in `info`. */
  modelVersion?: string;
  /** When known, the document states the exact number of features per row. */
  featureCount?: number;
  /**
   * The model a service serves: the document then also describes `GET /model` and the V2 routes
   * under its name, with an example inference request made from its signature.
   */
  model?: {
    name: string;
    signature: ModelSignature;
    /** Which `/predict` answer it gives: one number per row (the original), several, or a classifier's. */
    answer: 'PredictResponse' | 'MultiTargetPredictResponse' | 'ClassificationPredictResponse';
  };
}

/** A V2 inference request for one row of zeros, from the model's inputs. */
function exampleInferRequest(signature: ModelSignature) {
  return {
    inputs: signature.inputs.map((input) => {
      const shape = input.shape.map((dim, i) => (i === 0 || dim < 0 ? 1 : dim));
      return { name: input.name, shape, datatype: input.datatype, data: Array(shape.reduce((a, b) => a * b, 1)).fill(0) };
    }),
  };
}

function v2Paths(model: NonNullable<OpenApiOptions['model']>) {
  const v2Error = (description: string) => ({ description, content: jsonContent('V2ErrorBody') });
  const modelPath = `/v2/models/${model.name}`;
  const ready = (summary: string, ref: string) => ({
    get: {
      summary,
      responses: {
        '200': { description: 'Ready.', content: jsonContent(ref) },
        '503': { description: 'Not ready (starting or draining).', content: jsonContent(ref) },
      },
    },
  });
  return {
    '/v2': {
      get: {
        operationId: 'v2ServerMetadata',
        summary: 'V2 server metadata.',
        responses: { '200': { description: 'The server.', content: jsonContent('V2ServerMetadataResponse') } },
      },
    },
    '/v2/health/live': {
      get: {
        operationId: 'v2ServerLive',
        summary: 'V2 liveness.',
        responses: { '200': { description: 'Alive.', content: jsonContent('V2ServerLiveResponse') } },
      },
    },
    '/v2/health/ready': ready('V2 readiness: 200 once the model is loaded and warmed up.', 'V2ServerReadyResponse'),
    [modelPath]: {
      get: {
        operationId: 'v2ModelMetadata',
        summary: `V2 metadata of "${model.name}": inputs and outputs with datatypes and shapes (also under /versions/{version}).`,
        responses: {
          '200': { description: 'The model.', content: jsonContent('V2ModelMetadataResponse') },
          '404': v2Error('Another model name.'),
        },
      },
    },
    [`${modelPath}/ready`]: ready(`V2 readiness of "${model.name}".`, 'V2ModelReadyResponse'),
    [`${modelPath}/infer`]: {
      post: {
        operationId: 'v2Infer',
        summary: `V2 inference on "${model.name}" with typed tensors, one per model input (also under /versions/{version}).`,
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/V2InferRequest' }, example: exampleInferRequest(model.signature) },
          },
        },
        responses: {
          '200': { description: 'The output tensors.', headers: VERSION_HEADERS, content: jsonContent('V2InferResponse') },
          '400': v2Error('The request does not match the model; `error` names the tensor.'),
          '404': v2Error('Another model name or version.'),
          '413': v2Error('Too many rows, or the body is too large.'),
          '415': v2Error('The body is not JSON.'),
          '503': v2Error('The model is not ready.'),
        },
      },
    },
    '/model': {
      get: {
        operationId: 'model',
        summary: 'What the model is and how to call it: inputs, outputs, task, classes, metadata, version, sha256.',
        responses: { '200': { description: 'The model.', headers: VERSION_HEADERS, content: jsonContent('ModelInfoResponse') } },
      },
    },
  };
}

/** The component schemas only the served model's routes use. */
function v2Schemas() {
  return {
    ModelInfoResponse: jsonSchema(ModelInfoResponse),
    MultiTargetPredictResponse: jsonSchema(MultiTargetPredictResponse),
    ClassificationPredictResponse: jsonSchema(ClassificationPredictResponse),
    V2InferRequest: jsonSchema(V2InferRequest),
    V2InferResponse: jsonSchema(V2InferResponse),
    V2ModelMetadataResponse: jsonSchema(V2ModelMetadataResponse),
    V2ModelReadyResponse: jsonSchema(V2ModelReadyResponse),
    V2ServerMetadataResponse: jsonSchema(V2ServerMetadataResponse),
    V2ServerLiveResponse: jsonSchema(V2ServerLiveResponse),
    V2ServerReadyResponse: jsonSchema(V2ServerReadyResponse),
    V2ErrorBody: jsonSchema(V2ErrorBody),
  };
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
  const columnTypes: NumericInputDatatype[] | undefined = options.model?.signature.inputs.flatMap((input) =>
    Array<NumericInputDatatype>(input.shape.length === 2 ? input.shape[1] : 1).fill(input.datatype as NumericInputDatatype),
  );
  const request = options.featureCount ? predictRequestFor({ featureCount: options.featureCount, columnTypes }) : PredictRequest;
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
            '200': {
              description: 'Predictions.',
              headers: VERSION_HEADERS,
              content: jsonContent(options.model?.answer ?? 'PredictResponse'),
            },
            '400': errorResponse('The body is not valid JSON.'),
            '413': errorResponse('Too many rows, or the body is too large.'),
            '415': errorResponse('The body is not JSON.'),
            '422': errorResponse('The body does not match the schema; `detail` lists each problem.'),
            '503': errorResponse('The model is not ready.'),
          },
        },
      },
      ...(options.model ? v2Paths(options.model) : {}),
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
        ...(options.model ? v2Schemas() : {}),
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
