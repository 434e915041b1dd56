/**
 * `nx run deploy:generate [--check]`: renders the committed files from deploy/deployment.json, and
 * the Nx executor's schema from the command registry. Writes only files that changed and lists
 * them; with --check writes nothing and exits 1 if any file is stale. Run from the workspace root (nx does).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DeploymentSpecError } from '../spec/spec-error';
import { loadDeploymentSpec } from '../spec/load';
import { specWarnings } from '../spec/spec-warnings';
import { GENERATE_COMMAND } from '../render/generated-file';
import { findStaleFiles, renderCommittedFiles } from '../render/committed-files';
import { renderExecutorSchema } from './executor-schema';

function main(args: readonly string[]): number {
  const check = args.includes('--check');
  const spec = loadDeploymentSpec();
  for (const warning of specWarnings(spec)) console.error(`warning: ${warning}`);
  const files = [...renderCommittedFiles(spec), renderExecutorSchema()];
  const stale = findStaleFiles(files, (path) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined));
  if (check) {
    if (stale.length === 0) {
      console.log(`All ${files.length} generated files are up to date.`);
      return 0;
    }
    console.error(`Stale generated files (run \`npx ${GENERATE_COMMAND}\` and commit them):`);
    for (const file of stale) console.error(`  ${file.path}`);
    return 1;
  }
  for (const file of stale) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.content);
    console.log(`wrote ${file.path}`);
  }
  console.log(
    stale.length === 0
      ? `All ${files.length} generated files were already up to date.`
      : `${stale.length} of ${files.length} generated files changed.`,
  );
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof DeploymentSpecError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
