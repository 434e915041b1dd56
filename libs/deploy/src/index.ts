export {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_COLORS,
  DEFAULT_DEPLOYMENT_SPEC,
  DEFAULT_MAX_BATCH_ROWS,
  DEFAULT_NETWORK,
  DEFAULT_PREVIEW_PATH_PREFIX,
  DEFAULT_ROUTER_CONTAINER,
  DEFAULT_ROUTER_IMAGE,
  DEFAULT_ROUTER_PORT,
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
  PROXY_CONNECT_TIMEOUT,
  PROXY_READ_TIMEOUT,
  PROXY_SEND_TIMEOUT,
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
export { COMPOSE_SOCKET_DIR, INITIAL_LIVE_COLOR, LIVE_SOCKET, PREVIEW_SOCKET, colorSocket } from './spec/sockets';
export { findStaleFiles, renderCommittedFiles } from './render/committed-files';
export { runCli } from './cli/run';
export type { CliContext } from './cli/run';
export { DEPLOY_ERRORS, DeployError } from './errors';
export type { DeployErrorCode } from './errors';
export { DEFAULT_STATE_DIR, stackLayout } from './backends/local/layout';
export type { StackLayout } from './backends/local/layout';
export { findBinary, freePort, freePorts, realDeps } from './effects/real-deps';
export type { Clock, CommandRunner, HttpClient, ProcessControl, RuntimeDeps } from './effects/deps';
export { stackDown, stackUp } from './backends/local/lifecycle';
export type { DownResult, UpRequest, UpResult } from './backends/local/lifecycle';
export { localStatus } from './backends/local/status';
export type { LocalStatus } from './backends/local/status';
export { releaseModel } from './backends/local/release';
export type { ReleaseResult } from './backends/local/release';
export { DEFAULT_SWITCH_TIMING, rollbackTraffic, switchTraffic } from './commands/switch';
export type { SwitchBackend, SwitchResult, SwitchTiming } from './commands/switch';
export { localBackend, requireRunningStack } from './backends/local/local-backend';
export { composeBackend, composeStatus, detectComposeCommand } from './backends/compose/compose-backend';
export { HistoryEntry, readHistory } from './effects/history';
