export { Color, otherColor } from './color';
export { API_ERRORS, ErrorBody, ValidationIssue } from './errors';
export type { ApiErrorCode } from './errors';
export { HealthResponse, HealthStatus, LivenessResponse } from './health';
export { MODEL_INPUT_NAME, MODEL_OUTPUT_NAME, ModelMetadata, ModelVersion } from './model-metadata';
export { buildOpenApiDocument } from './openapi';
export type { OpenApiDocument, OpenApiOptions } from './openapi';
export {
  AnyPredictResponse,
  ClassificationPredictResponse,
  FLOAT32_MAX,
  MultiTargetPredictResponse,
  numericValueProblem,
  PredictRequest,
  PredictResponse,
  predictRequestFor,
} from './predict';
export type { PredictLimits } from './predict';
export {
  ClassLabel,
  describeSignatureDifferences,
  ModelInfoResponse,
  ModelSignature,
  ModelTask,
  NUMERIC_INPUT_DATATYPES,
  TensorDatatype,
  TensorSignature,
} from './signature';
export type { NumericInputDatatype } from './signature';
export { ROUTE_MOVE_BOUND_MS, ROUTE_LINK_NAME, ROUTER_CONNECTIONS } from './router-connections';
export { appRouter } from './trpc';
export type { AppRouter, ModelProcedures, TrpcContext } from './trpc';
export {
  V2_PLATFORM,
  V2ErrorBody,
  V2InferRequest,
  V2InferResponse,
  V2ModelMetadataResponse,
  V2ModelReadyResponse,
  V2RequestInput,
  V2RequestOutput,
  V2ResponseOutput,
  V2ServerLiveResponse,
  V2ServerMetadataResponse,
  V2ServerReadyResponse,
  V2TensorData,
} from './v2';
export { PREDICTIONS_ADMIN_PATH, PredictionRecord, PredictionsResponse, SHADOW_HEADER, predictionOutputs } from './predictions';
export { LOG_LEVELS, LogLevel, MAX_PREDICTION_LOG_SIZE, SERVICE_ENV_DEFAULTS, ServiceEnv, colorServiceEnv } from './service-env';
export type { ColorServiceSettings, ServiceEnvName } from './service-env';
