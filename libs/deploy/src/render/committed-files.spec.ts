import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findStaleFiles, renderCommittedFiles } from './committed-files';
import { loadDeploymentSpec } from '../spec/load';

const WORKSPACE_ROOT = join(__dirname, '../../../..');

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
    expect(files.map((file) => file.path)).toEqual([
      'deploy/nginx/nginx.conf',
      'docker-compose.yml',
      'docker-compose.blue.yml',
      'docker-compose.green.yml',
    ]);
  });
});
