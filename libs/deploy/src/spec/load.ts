import { readFileSync } from 'node:fs';
import { DEFAULT_DEPLOYMENT_SPEC, DEPLOYMENT_SPEC_PATH, DeploymentSpec, deepFreeze } from './deployment-spec';
import { DeploymentSpecError, describeIssues } from './spec-error';

const FIX_FILE_HINT = (source: string) =>
  `Fix the fields above in ${source} (delete a field to use its default), then run \`npx nx run deploy:generate\`.`;

/**
 * Parses and validates the text of a deployment spec file. Pure.
 * @param source the file name used in error messages
 * @throws DeploymentSpecError naming the file, each bad field and what to do
 */
export function parseDeploymentSpec(text: string, source: string = DEPLOYMENT_SPEC_PATH): DeploymentSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DeploymentSpecError(source, [`not valid JSON: ${(error as Error).message}`], `Fix the JSON syntax in ${source}.`);
  }
  const result = DeploymentSpec.safeParse(json);
  if (!result.success) {
    throw new DeploymentSpecError(source, describeIssues(result.error.issues, DEFAULT_DEPLOYMENT_SPEC), FIX_FILE_HINT(source));
  }
  return deepFreeze(result.data);
}

/**
 * Reads and validates a deployment spec file (default `deploy/deployment.json`, relative to the
 * current directory).
 * @throws DeploymentSpecError when the file can not be read or is not a valid spec
 */
export function loadDeploymentSpec(file: string = DEPLOYMENT_SPEC_PATH): DeploymentSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DeploymentSpecError(
      file,
      [`can not be read: ${(error as Error).message}`],
      `Run the command from the workspace root, or restore ${DEPLOYMENT_SPEC_PATH} from git (\`git checkout -- ${DEPLOYMENT_SPEC_PATH}\`).`,
    );
  }
  return parseDeploymentSpec(text, file);
}
