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
// The deploy tool's wire (libs/deploy): its --json output, its files in the state folder, the dashboard's API and events.
// Modules without zod (colors, last-canary, route-weights) hold what the dashboard's page runs, so its bundle has no schemas.
export { COLORS } from './colors';
export type { ColorName } from './colors';
export { CanaryLaunch, CanaryResult, CanaryRun, CanaryView } from './deploy-api/canary';
export { Aspect, CheckVerdict, Effect, JudgeResult, JudgedCheck, Judgement, OutputHistogram, Verdict } from './deploy-api/judgement';
export { CliError, CliHelp, CliUsageError, CommandResults, FailureResults, cliEnvelope, cliOutput, commandOutput } from './deploy-api/cli';
export type { CommandName, CommandOutput, CommandResult, ResultCommand } from './deploy-api/cli';
export {
  ActionEvent,
  ActionName,
  ActionOutcome,
  ActionRequests,
  ActionResults,
  ColorDetail,
  DashboardEvents,
  DashboardMeta,
  DashboardSnapshot,
  DiffAnswer,
  EdgeError,
  FeedEvent,
  HistoryView,
  ProgressEvent,
  Sample,
  StackView,
  TrafficPoint,
  actionOutcome,
} from './deploy-api/dashboard';
export type { ActionRequest, DashboardEvent, DashboardEventName } from './deploy-api/dashboard';
export { DiffReport, DiffResult, DiffSource, DiffTolerance, HistogramBin, LastDiff, LatencySummary } from './deploy-api/diff';
export { GateResult } from './deploy-api/gate-result';
export {
  BackendKind,
  CanaryColorSample,
  CanaryInterval,
  CanaryOutcome,
  HISTORY_SCHEMA_VERSION,
  HistoryEntry,
  MoveEntry,
  SwitchResultKind,
} from './deploy-api/history';
export type { CanaryEntry, HistoryInput } from './deploy-api/history';
export { lastCanary } from './deploy-api/last-canary';
export type { LastCanary } from './deploy-api/last-canary';
export {
  CaptureResult,
  DashboardStarted,
  DownResult,
  ModelSource,
  ReleaseOutcome,
  ReleaseResult,
  ReleaseSwitchFailure,
  ShadowResult,
  StartedColor,
  StartedReplica,
  StoppedProcess,
  SwitchOutcome,
  SwitchResult,
  UpResult,
} from './deploy-api/results';
export { ImageReference, ModelPathArgument } from './deploy-api/release-values';
export { Routes, Weights } from './deploy-api/routes';
export { describeWeights, mainTarget, soleTarget } from './deploy-api/route-weights';
export {
  BackendStatus,
  ColorStatus,
  HealthView,
  ProcessPhase,
  ProcessState,
  RelayStatus,
  ReplicaStatus,
  RouterStatus,
  ShadowStatus,
  StatusResult,
  SupervisedStatus,
  SupervisorStatusView,
} from './deploy-api/status';
