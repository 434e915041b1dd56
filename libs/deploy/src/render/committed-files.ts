import type { DeploymentSpec } from '../spec/deployment-spec';
import { renderComposeFiles } from './compose/compose';
import { COMPOSE_NGINX_CONF } from './compose/compose-names';
import type { GeneratedFile } from './generated-file';
import { renderArgoRolloutsFiles } from './kubernetes/argo-rollouts';
import { renderKubernetesFiles } from './kubernetes/kubernetes';
import { renderNginxConf } from './nginx/nginx';
import { composeNginxSite } from './nginx/nginx-site';

/**
 * Every generated file that is committed, with paths relative to the workspace root:
 * the Compose nginx config, the three Compose files, and the Kubernetes manifests (with the Argo
 * Rollouts variant). Pure and deterministic.
 */
export function renderCommittedFiles(spec: DeploymentSpec): GeneratedFile[] {
  return [
    { path: COMPOSE_NGINX_CONF, content: renderNginxConf(spec, composeNginxSite(spec)) },
    ...renderComposeFiles(spec),
    ...renderKubernetesFiles(spec),
    ...renderArgoRolloutsFiles(spec),
  ];
}

/**
 * The files whose current text differs from the rendered one (or that are missing).
 * @param readCurrent returns a file's current text, or undefined when it does not exist
 */
export function findStaleFiles(files: readonly GeneratedFile[], readCurrent: (path: string) => string | undefined): GeneratedFile[] {
  return files.filter((file) => readCurrent(file.path) !== file.content);
}
