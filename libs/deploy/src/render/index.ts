export {
  COMPOSE_BASE_FILE,
  COMPOSE_NGINX_CONF,
  COMPOSE_NGINX_LOG_DIR,
  COMPOSE_UP_COMMAND,
  composeColorFile,
} from './compose/compose-names';
export { ROUTER_SERVICE, SOCKET_VOLUME, colorService, renderComposeFiles } from './compose/compose';
export { GENERATE_COMMAND } from './generated-file';
export type { GeneratedFile } from './generated-file';
export { renderNginxConf } from './nginx/nginx';
export { LOCAL_NGINX_FILES, composeNginxSite, localNginxSite } from './nginx/nginx-site';
export type { NginxFiles, NginxSite } from './nginx/nginx-site';
export { ROUTER_ERRORS } from './nginx/router-errors';
export type { RouterErrorCode } from './nginx/router-errors';
