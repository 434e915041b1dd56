import type { BackendRuntime } from '../backend';
import type { DeploymentView, KubeApi } from './kube-api';

const POLL_MS = 1_000;
const PROGRESS_EVERY_MS = 5_000;

/** Why a rollout is not done yet, or undefined when it is: every desired pod updated, ready and available, no old pod left. */
function rolloutPending(deployment: DeploymentView): string | undefined {
  if (deployment.observedGeneration < deployment.generation) return 'the change is not picked up yet';
  const { desired, updated, ready, available, current } = deployment;
  if (updated < desired || ready < desired || available < desired || current > desired)
    return `${updated} of ${desired} pods updated, ${ready} ready, ${available} available, ${current} running in all`;
  return undefined;
}

/** Waits until the Deployment's rollout is done; throws (a plain Error) when it stops progressing or `timeoutMs` passes. */
export async function waitForRollout(api: KubeApi, runtime: BackendRuntime, name: string, timeoutMs: number): Promise<DeploymentView> {
  const started = runtime.clock.now();
  let nextReport = started + PROGRESS_EVERY_MS;
  for (;;) {
    const deployment = await api.readDeployment(name);
    const pending = rolloutPending(deployment);
    if (!pending) return deployment;
    const stuck = deployment.conditions.find((condition) => condition.type === 'Progressing' && condition.status === 'False');
    if (stuck) throw new Error(`deployment ${name} stopped progressing (${stuck.reason}: ${stuck.message ?? ''}); ${pending}.`);
    const now = runtime.clock.now();
    if (now - started >= timeoutMs)
      throw new Error(`deployment ${name} was not rolled out after ${Math.round(timeoutMs / 1000)} s: ${pending}.`);
    if (now >= nextReport) {
      runtime.progress(`  ${Math.round((now - started) / 1000)} s  ${name}: ${pending}`);
      nextReport = now + PROGRESS_EVERY_MS;
    }
    await runtime.clock.sleep(POLL_MS);
  }
}
