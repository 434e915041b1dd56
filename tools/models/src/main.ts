import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { renderArtifacts } from './artifacts';

// Paths in the artifacts are relative to the workspace root, two levels above tools/models/src.
const WORKSPACE_ROOT = resolve(__dirname, '../../..');

function main(): void {
  const { artifacts, summary } = renderArtifacts();
  for (const { path, content } of artifacts) {
    const target = resolve(WORKSPACE_ROOT, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  for (const model of summary) {
    const rows = model.trainingRows === undefined ? '' : `  rows ${model.trainingRows}`;
    const rmse = model.rmse === undefined ? '' : `  rmse ${model.rmse}`;
    console.log(`${model.version}${rows}${rmse}\n  ${model.path}  sha256 ${model.sha256}`);
  }
  console.log(`wrote ${artifacts.length} files`);
}

main();
