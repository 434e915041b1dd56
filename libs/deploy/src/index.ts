export {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_COLORS,
  DEFAULT_PROXY_RETRY,
  DEFAULT_PROXY_TIMEOUTS,
  DEFAULT_DEPLOYMENT_SPEC,
  DEFAULT_MAX_BATCH_ROWS,
  DEFAULT_NETWORK,
  DEFAULT_PREVIEW_PATH_PREFIX,
  DEFAULT_ROUTER_CONTAINER,
  DEFAULT_ROUTER_IMAGE,
  DEFAULT_ROUTER_PORT,
  DEFAULT_REPLICAS,
  DEFAULT_SUPERVISOR,
  DEPLOYMENT_SPEC_PATH,
  DeploymentOverrides,
  DeploymentSpec,
  DeploymentSpecError,
  applyOverrides,
  loadDeploymentSpec,
  parseDeploymentSpec,
} from './spec';
export {
  COMPOSE_BASE_FILE,
  COMPOSE_NGINX_CONF,
  COMPOSE_UP_COMMAND,
  GENERATE_COMMAND,
  LOCAL_NGINX_FILES,
  ROUTER_ERRORS,
  ROUTER_SERVICE,
  SOCKET_VOLUME,
  colorService,
  composeColorFile,
  composeNginxSite,
  localNginxSite,
  renderComposeFiles,
  renderNginxConf,
} from './render';
export type { GeneratedFile, NginxFiles, NginxSite, RouterErrorCode } from './render';
export {
  CANARY_LINK,
  COMPOSE_SOCKET_DIR,
  DEFAULT_LIVE_SLOTS,
  INITIAL_LIVE_COLOR,
  LIVE_LINK,
  PREVIEW_LINK,
  colorFolder,
  colorReplicaSocket,
  liveSlotLink,
  replicaNumbers,
  replicaSocket,
} from './spec/sockets';
export { findStaleFiles, renderCommittedFiles } from './render/committed-files';
export { runCli } from './cli/run';
export type { CliContext } from './cli/run';
export { DEPLOY_ERRORS, DeployError } from './errors';
export type { DeployErrorCode } from './errors';
export { DEFAULT_STATE_DIR, stackLayout } from './backends/local/layout';
export type { StackLayout } from './backends/local/layout';
export { findBinary, realDeps } from './effects/real-deps';
export type { Clock, CommandRunner, HttpAnswer, HttpClient, ProcessControl, RuntimeDeps } from './effects/deps';
export type { Backend, UpRequest } from './backends/backend';
export { localBackend } from './backends/local/local-backend';
export { composeBackend, detectEngineCommands } from './backends/compose/compose-backend';
export { stateFolderStores } from './commands/context';
export type { CommandContext } from './commands/context';
export { fileLock } from './effects/lock';
export type { Lock, LockHolder } from './effects/lock';
export { fileHistory } from './history/store';
export type { HistoryStore } from './history/store';
export { downStack, releaseToIdle, stackStatus, upStack } from './commands/stack/stack';
export { switchTraffic } from './commands/switch/switch';
export { rollbackTraffic } from './commands/switch/rollback';
export { DEFAULT_SWITCH_TIMING, GATES, gatesNamed } from './gates';
export type { Gate, GateContext, SwitchTiming } from './gates';
export { judgeInterval, judgeLimits, judgeMetrics } from './gates';
export type { JudgeLimits, JudgeWindow } from './gates';
export { readHistory } from './history/history';
export { allTo, routesWithLive } from './routing/routes';
export { assignSlots, slotOrder, weightsOfSlots } from './routing/slots';
