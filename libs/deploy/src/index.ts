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
export { COMPOSE_SOCKET_DIR, INITIAL_LIVE_COLOR, LIVE_SOCKET, PREVIEW_SOCKET, colorSocket } from './sockets';
export { findStaleFiles, renderCommittedFiles } from './generate';
export { runCli } from './cli/run';
export type { CliContext } from './cli/run';
export { DEPLOY_ERRORS, DeployError } from './runtime/errors';
export type { DeployErrorCode } from './runtime/errors';
export { DEFAULT_STATE_DIR, stackLayout } from './runtime/layout';
export type { StackLayout } from './runtime/layout';
export { findBinary, freePort, freePorts, realDeps } from './runtime/real-deps';
export type { Clock, CommandRunner, HttpClient, ProcessControl, RuntimeDeps } from './runtime/deps';
export { stackDown, stackUp } from './runtime/stack';
export type { DownResult, UpRequest, UpResult } from './runtime/stack';
export { localStatus } from './runtime/status';
export type { LocalStatus } from './runtime/status';
export { releaseModel } from './runtime/release';
export type { ReleaseResult } from './runtime/release';
export { DEFAULT_SWITCH_TIMING, rollbackTraffic, switchTraffic } from './runtime/switch';
export type { SwitchBackend, SwitchResult, SwitchTiming } from './runtime/switch';
export { localBackend, requireRunningStack } from './runtime/local-backend';
export { composeBackend, composeStatus, detectComposeCommand } from './runtime/compose-backend';
export { HistoryEntry, readHistory } from './runtime/history';
