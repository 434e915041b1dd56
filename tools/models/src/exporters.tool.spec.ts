import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWorkspaceFile, WORKSPACE_ROOT } from './testing/predict-with-ort';

/** Debian's python with its own modules (the python3 first on PATH may be another one, without them). */
const PYTHON = '/usr/bin/python3';
const SCRIPTS = [
  ['tools/models/exporters/torch_models.py', ['torch-mlp-regressor', 'torch-softmax-classifier', 'torch-multi-target'], 'torch'],
  ['tools/models/exporters/onnx_ml_models.py', ['linear-classifier', 'zipmap-classifier', 'tree-classifier', 'mixed-inputs'], 'onnx'],
] as const;
// Same script, same library: the same outputs up to float noise between runs.
const TOLERANCE = 1e-6;

function hasModule(module: string): boolean {
  return spawnSync(PYTHON, ['-c', `import ${module}`]).status === 0;
}

function expectClose(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === 'number') {
    if (typeof actual !== 'number' || Math.abs(actual - expected) > TOLERANCE * Math.max(1, Math.abs(expected)))
      throw new Error(`${where}: regenerated ${actual}, committed ${expected}`);
  } else if (Array.isArray(expected) || (typeof expected === 'object' && expected !== null)) {
    expect(Object.keys(actual as object)).toEqual(Object.keys(expected));
    for (const key of Object.keys(expected))
      expectClose((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${where}.${key}`);
  } else {
    expect(actual).toEqual(expected);
  }
}

describe.each(SCRIPTS)('%s', (script, fixtures, module) => {
  const available = hasModule(module);
  const regenerates = available ? it : it.skip;

  regenerates(
    `regenerates the committed fixtures' outputs (needs python3-${module} at ${PYTHON}; skipped when it is not installed)`,
    () => {
      const out = mkdtempSync(join(tmpdir(), 'mlbg-exporters-'));
      try {
        const run = spawnSync(PYTHON, [join(WORKSPACE_ROOT, script), out], {
          cwd: join(WORKSPACE_ROOT, 'tools/models/exporters'),
          encoding: 'utf8',
        });
        if (run.status !== 0) throw new Error(`${script} failed:\n${run.stderr}`);
        for (const fixture of fixtures) {
          const fresh = JSON.parse(readFileSync(join(out, fixture, 'expected.json'), 'utf8'));
          const committed = JSON.parse(readWorkspaceFile(`models/fixtures/${fixture}/expected.json`).toString('utf8'));
          expectClose(fresh.outputs, committed.outputs, `${fixture} outputs`);
          expect(fresh.rows).toEqual(committed.rows);
        }
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
  );

  it('committed each fixture with its model and the outputs its exporter computed', () => {
    for (const fixture of fixtures) {
      expect(readWorkspaceFile(`models/fixtures/${fixture}/model.onnx`).length).toBeGreaterThan(100);
      const expected = JSON.parse(readWorkspaceFile(`models/fixtures/${fixture}/expected.json`).toString('utf8'));
      expect(expected.made_by).toContain(script);
      expect(Object.keys(expected.outputs).length).toBeGreaterThan(0);
    }
  });
});
