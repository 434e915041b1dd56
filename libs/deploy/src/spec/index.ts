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
  DEFAULT_REPLICAS,
  DEFAULT_SUPERVISOR,
  DEPLOYMENT_SPEC_PATH,
  DeploymentSpec,
} from './deployment-spec';
export { DEFAULT_PROXY_RETRY, DEFAULT_PROXY_TIMEOUTS } from './proxy-spec';
export { loadDeploymentSpec, parseDeploymentSpec } from './load';
export { DeploymentOverrides, applyOverrides } from './overrides';
export { DeploymentSpecError } from './spec-error';
