import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findStaleFiles, renderCommittedFiles } from './committed-files';
import { loadDeploymentSpec } from '../spec/load';

const WORKSPACE_ROOT = join(__dirname, '../../../..');

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

describe('committed generated files', () => {
  it('match what `nx run deploy:generate` renders from deploy/deployment.json', () => {
    const files = renderCommittedFiles(loadDeploymentSpec(join(WORKSPACE_ROOT, 'deploy/deployment.json')));
    const stale = findStaleFiles(files, (path) => {
      const file = join(WORKSPACE_ROOT, path);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    });
    if (stale.length > 0) {
      throw new Error(
        `These generated files differ from the generator's output: ${stale.map((file) => file.path).join(', ')}.\n` +
          'Run `npx nx run deploy:generate` and commit the result (edit deploy/deployment.json, never the files).',
      );
    }
    expect(files.map((file) => file.path).slice(0, 4)).toEqual([
      'deploy/nginx/nginx.conf',
      'docker-compose.yml',
      'docker-compose.blue.yml',
      'docker-compose.green.yml',
    ]);
    expect(files.map((file) => file.path)).toEqual(
      expect.arrayContaining([
        'deploy/kubernetes/kustomization.yaml',
        'deploy/kubernetes/base/deployment-blue.yaml',
        'deploy/kubernetes/base/deployment-green.yaml',
        'deploy/kubernetes/base/service-live.yaml',
        'deploy/kubernetes/base/service-preview.yaml',
        'deploy/kubernetes/base/httproute.yaml',
        'deploy/kubernetes/base/prometheusrule.yaml',
        'deploy/kubernetes/base/grafana-dashboard.json',
        'deploy/kubernetes/argo-rollouts/rollout.yaml',
        'deploy/kubernetes/argo-rollouts/analysis-template.yaml',
      ]),
    );
    // Nothing else writes under deploy/kubernetes/: a file left there by hand would be stale forever.
    expect(
      files
        .filter((file) => file.path.startsWith('deploy/kubernetes/'))
        .map((file) => file.path)
        .sort(),
    ).toEqual(
      listFiles(join(WORKSPACE_ROOT, 'deploy/kubernetes'))
        .map((file) => `deploy/kubernetes/${file}`)
        .sort(),
    );
  });
});
