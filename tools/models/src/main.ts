import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { renderArtifacts } from './artifacts';

// Paths in the artifacts are relative to the workspace root, two levels above tools/models/src.
const WORKSPACE_ROOT = resolve(__dirname, '../../..');

// Leaves identical files alone and replaces others by rename, so a test reading them at the same
// time (nx runs build and test in parallel) never sees a half-written file.
function writeIfChanged(path: string, content: Uint8Array | string): boolean {
  const target = resolve(WORKSPACE_ROOT, path);
  const bytes = Buffer.from(content);
  if (existsSync(target) && readFileSync(target).equals(bytes)) return false;
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(`${target}.tmp`, bytes);
  renameSync(`${target}.tmp`, target);
  return true;
}

function main(): void {
  const { artifacts, summary } = renderArtifacts();
  const written = artifacts.filter(({ path, content }) => writeIfChanged(path, content)).map((a) => a.path);
  for (const model of summary) {
    const rows = model.trainingRows === undefined ? '' : `  rows ${model.trainingRows}`;
    const rmse = model.rmse === undefined ? '' : `  rmse ${model.rmse}`;
    console.log(`${model.version}${rows}${rmse}\n  ${model.path}  sha256 ${model.sha256}`);
  }
  const changed = written.length === 0 ? '' : `: ${written.join(', ')}`;
  console.log(`${written.length} of ${artifacts.length} files changed${changed}`);
}

main();
