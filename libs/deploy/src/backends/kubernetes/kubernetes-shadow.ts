import type { HttpCall } from '../../effects/deps';
import { DeployError } from '../../errors';
import { HTTP_ROUTE, RELAY_CONTAINER, SHADOW_RELAY_SERVICE } from '../../render/kubernetes/kubernetes-names';
import type { BackendRuntime, ShadowControl, ShadowRequest, ShadowStatus } from '../backend';
import { RELAY_STATUS_PATH, type RelayStatus } from '../local/shadow/relay/relay';
import { mirrorIsOn, withMirror } from './http-route';
import type { DeploymentView, KubeApi } from './kube-api';
import { waitForRollout } from './rollout';
import { patchRouteRules } from './route-patch';

/** The relay's pod pulls no new image (it is the service's), so it is ready within this long. */
const RELAY_ROLLOUT_TIMEOUT_MS = 120_000;
const RELAY_ANSWER_TIMEOUT_MS = 30_000;
const POLL_MS = 1_000;

/**
 * Shadow traffic on Kubernetes: the HTTPRoute's RequestMirror filter copies live /predict and V2
 * requests to the ml-shadow-relay Service, whose relay (the local stack's, from the service image)
 * answers at once and forwards a share of them to ml-preview. On: the relay scaled to one pod with
 * the share and queue size in its environment (a restarted relay keeps them), then the filter
 * added to the route. Off: the filter first (the gateway stops copying), then the relay to 0.
 * Each route change carries the resourceVersion read as its precondition.
 */
export function shadowControl(api: KubeApi, runtime: BackendRuntime): ShadowControl {
  const relayCall = async (call: HttpCall): Promise<RelayStatus> => {
    const answer = await api.proxy(SHADOW_RELAY_SERVICE, { ...call, timeoutMs: 5_000 });
    if (answer.status !== 200) throw new Error(`the relay answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    return JSON.parse(answer.body) as RelayStatus;
  };

  async function readRelay(): Promise<DeploymentView> {
    try {
      return await api.readDeployment(SHADOW_RELAY_SERVICE);
    } catch (error) {
      if (error instanceof DeployError && error.code === 'KUBE_NOT_FOUND')
        throw new DeployError('SHADOW_FAILED', `There is no Deployment ${api.namespace}/${SHADOW_RELAY_SERVICE} (the shadow relay).`, {
          hint: 'Apply the manifests of this version: `kubectl apply -k deploy/kubernetes` (docs/kubernetes.md).',
        });
      throw error;
    }
  }

  async function setMirror(on: boolean): Promise<void> {
    const route = await api.readHttpRoute(HTTP_ROUTE);
    if (!route)
      throw new DeployError('SHADOW_FAILED', `There is no HTTPRoute ${api.namespace}/${HTTP_ROUTE} to mirror live requests from.`, {
        hint: 'Install the Gateway API CRDs and a Gateway implementation, then `kubectl apply -k deploy/kubernetes` (docs/kubernetes.md).',
      });
    await patchRouteRules(api, route, (current) => (mirrorIsOn(current.rules) === on ? undefined : withMirror(current.rules, on)));
  }

  async function waitForRelay(): Promise<void> {
    const until = runtime.clock.now() + RELAY_ANSWER_TIMEOUT_MS;
    for (;;) {
      try {
        await relayCall({ method: 'GET', path: RELAY_STATUS_PATH });
        return;
      } catch (error) {
        if (runtime.clock.now() >= until)
          throw new DeployError(
            'SHADOW_FAILED',
            `The relay did not answer through ${api.proxyUrl(SHADOW_RELAY_SERVICE)} within ${RELAY_ANSWER_TIMEOUT_MS / 1000} s (${(error as Error).message}).`,
            { hint: `See its log: \`kubectl logs -n ${api.namespace} deployment/${SHADOW_RELAY_SERVICE}\`.` },
          );
        await runtime.clock.sleep(POLL_MS);
      }
    }
  }

  async function status(): Promise<ShadowStatus> {
    const notes: string[] = [];
    const route = await api.readHttpRoute(HTTP_ROUTE);
    const on = route ? mirrorIsOn(route.rules) : false;
    const relay = await readRelay();
    let counters: RelayStatus | null = null;
    if (relay.ready > 0) {
      try {
        counters = await relayCall({ method: 'GET', path: RELAY_STATUS_PATH });
      } catch (error) {
        notes.push(`The relay does not answer: ${(error as Error).message}.`);
      }
    }
    if (on && relay.ready === 0)
      notes.push(
        `The route mirrors live requests but no relay pod is ready: the copies fail at the gateway (live requests are not affected). Run \`deploy:shadow off\` or \`on\`.`,
      );
    const percent = counters?.percent ?? (relay.env['RELAY_PERCENT'] === undefined ? null : Number(relay.env['RELAY_PERCENT']));
    return { on, percent: relay.desired > 0 ? percent : null, pid: null, relay: counters, notes };
  }

  return {
    async on(request: ShadowRequest) {
      await readRelay();
      runtime.progress(`shadow: the relay ${SHADOW_RELAY_SERVICE} to 1 pod, forwarding ${request.percent}% to the preview Service...`);
      await api.patchDeployment(SHADOW_RELAY_SERVICE, {
        container: RELAY_CONTAINER,
        replicas: 1,
        env: { RELAY_PERCENT: String(request.percent), RELAY_QUEUE_SIZE: String(request.queueSize) },
      });
      try {
        await waitForRollout(api, runtime, SHADOW_RELAY_SERVICE, RELAY_ROLLOUT_TIMEOUT_MS);
        await waitForRelay();
      } catch (error) {
        await api.patchDeployment(SHADOW_RELAY_SERVICE, { container: RELAY_CONTAINER, replicas: 0 }).catch(() => undefined);
        throw error instanceof DeployError
          ? error
          : new DeployError('SHADOW_FAILED', (error as Error).message, {
              hint: `See why: \`kubectl describe deployment ${SHADOW_RELAY_SERVICE} -n ${api.namespace}\`. The route was not changed.`,
            });
      }
      runtime.progress(`shadow: the HTTPRoute ${HTTP_ROUTE} mirrors /predict and V2 inference to the relay`);
      await setMirror(true);
      return status();
    },
    async off() {
      const before = await status();
      await setMirror(false);
      await api.patchDeployment(SHADOW_RELAY_SERVICE, { container: RELAY_CONTAINER, replicas: 0 });
      return { ...(await status()), final: before.relay };
    },
    status,
    capture: () =>
      Promise.reject(
        new DeployError(
          'SHADOW_FAILED',
          `deploy:capture writes the live bodies on the relay's own machine; on Kubernetes that is its pod.`,
          {
            hint: 'Capture on the local stack, or replay a file you have (`deploy:diff --replay=<file>`); shadow on and `deploy:diff` work on Kubernetes.',
          },
        ),
      ),
  };
}
