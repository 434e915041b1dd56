import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderArtifacts } from './artifacts';
import { readWorkspaceFile, WORKSPACE_ROOT } from './testing/predict-with-ort';

const REBUILD = 'run `npx nx run models:build` and commit the result';

describe('committed model artifacts', () => {
  const { artifacts } = renderArtifacts();

  it("covers the data, both versions, v1.0.0's variants, the bring-your-own fixture and the classifier example", () => {
    expect(artifacts.map((a) => a.path)).toEqual([
      'tools/models/data/training.csv',
      'models/v1.0.0/model.onnx',
      'models/v1.0.0/model.json',
      'models/fixtures/negated-slope/model.onnx',
      'models/fixtures/negated-slope/model.json',
      'models/fixtures/honest-copy/model.onnx',
      'models/fixtures/honest-copy/model.json',
      'models/v1.1.0/model.onnx',
      'models/v1.1.0/model.json',
      'models/fixtures/three-features/model.onnx',
      'models/fixtures/three-features/model.json',
      'models/classifier/model.onnx',
      'models/classifier/model.json',
    ]);
  });

  it('renders the same bytes twice in one process', () => {
    expect(renderArtifacts().artifacts).toEqual(artifacts);
  });

  it.each(artifacts.map((a) => [a.path, a] as const))('%s is byte for byte what the build writes', (path, artifact) => {
    if (!existsSync(resolve(WORKSPACE_ROOT, path))) throw new Error(`${path} is missing: ${REBUILD}`);
    const expected = Buffer.from(artifact.content);
    if (!readWorkspaceFile(path).equals(expected)) throw new Error(`${path} differs from a fresh build: ${REBUILD}`);
  });
});
