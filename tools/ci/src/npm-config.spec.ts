import { spawnSync } from 'node:child_process';
import { WORKSPACE_ROOT, readWorkspaceJson } from './testing/workspace';

describe('npm in this workspace', () => {
  it('reads the project .npmrc without "Unknown project config" warnings (real npm)', () => {
    const result = spawnSync('npm', ['config', 'get', 'fund'], { cwd: WORKSPACE_ROOT, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain('Unknown project config');
    expect(result.stdout.trim()).toBe('false');
  });

  it("keeps onnxruntime-node's install script (a CUDA download) denied, and the others it needs allowed", () => {
    const { allowScripts } = readWorkspaceJson<{ allowScripts: Record<string, boolean> }>('package.json');
    expect(allowScripts).toMatchObject({ 'onnxruntime-node': false, nx: true, '@swc/core': true });
  });
});
