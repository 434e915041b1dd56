import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CanarySettings } from './canary';
import { DeployError } from '../../errors';
import { CanarySpec, ProbeSamples } from '../../spec/canary-spec';
import type { DeploymentSpec } from '../../spec/deployment-spec';

/**
 * The canary's settings: the spec's `canary` section with --steps and --interval applied (checked
 * by the same schema, so a flag is refused exactly as the spec field would be), and the probe
 * bodies from the spec's sample file.
 * @throws DeployError USAGE for a bad flag, SPEC_INVALID for a missing or bad sample file
 */
export function canarySettings(
  spec: DeploymentSpec,
  workspaceRoot: string,
  flags: { steps?: readonly number[]; intervalSeconds?: number },
): CanarySettings {
  const merged = CanarySpec.safeParse({
    ...spec.canary,
    ...(flags.steps ? { steps: flags.steps } : {}),
    ...(flags.intervalSeconds !== undefined ? { intervalSeconds: flags.intervalSeconds } : {}),
  });
  if (!merged.success) {
    const issue = merged.error.issues[0];
    const field = String(issue?.path[0] ?? '');
    const flag = field === 'steps' ? '--steps' : field === 'intervalSeconds' ? '--interval' : `canary.${issue?.path.join('.')}`;
    throw new DeployError('USAGE', `${flag}: ${issue?.message}.`);
  }
  const file = merged.data.probes.samples;
  if (!file) return { spec: merged.data };
  let parsed: ProbeSamples;
  try {
    const result = ProbeSamples.safeParse(JSON.parse(readFileSync(join(workspaceRoot, file), 'utf8')));
    if (!result.success) throw new Error(result.error.issues[0]?.message ?? 'not a list of request bodies');
    parsed = result.data;
  } catch (error) {
    throw new DeployError('SPEC_INVALID', `canary.probes.samples: ${file} can not be used: ${(error as Error).message}.`, {
      hint: `Make ${file} a JSON list of /predict bodies, e.g. [{"features": [[1]]}], or remove canary.probes.samples from deploy/deployment.json.`,
    });
  }
  return { spec: merged.data, probes: parsed.map((body) => JSON.stringify(body)) };
}
