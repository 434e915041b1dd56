import { DeployError } from '../../errors';
import { HTTP_ROUTE, LIVE_SERVICE, PREVIEW_SERVICE } from '../../render/kubernetes/kubernetes-names';
import { type HttpRouteRule, readWeights } from './http-route';
import type { HttpRouteView, KubeApi } from './kube-api';

/** Patches refused only because the route's status moved (409, same generation) before giving up: client-go's retry.DefaultRetry steps. */
const STATUS_CONFLICT_ATTEMPTS = 5;

/**
 * Sets the HTTPRoute's rules to `edit(route)` on the route as read, with its resourceVersion as the
 * precondition (`edit` answers undefined when the route is already as wanted). A gateway writes the
 * route's status all the time, which moves the resourceVersion but not the generation: a 409 with the
 * same generation is read again and patched again, up to 5 attempts; a new generation is someone
 * else's change of the spec, refused naming who made it (never overwritten). One path for the canary's
 * weights and shadow traffic's mirror. Answers the patched route, or undefined when nothing changed.
 */
export async function patchRouteRules(
  api: KubeApi,
  route: HttpRouteView,
  edit: (route: HttpRouteView) => readonly HttpRouteRule[] | undefined,
): Promise<HttpRouteView | undefined> {
  for (let attempt = 1; ; attempt += 1) {
    const rules = edit(route);
    if (rules === undefined) return undefined;
    try {
      return await api.patchHttpRouteRules(HTTP_ROUTE, rules, route.resourceVersion);
    } catch (error) {
      if (!(error instanceof DeployError && error.code === 'KUBE_CONFLICT')) throw error;
      const fresh = await api.readHttpRoute(HTTP_ROUTE);
      if (fresh && fresh.generation !== route.generation) throw routeChanged(api, fresh, route.generation);
      if (!fresh || attempt >= STATUS_CONFLICT_ATTEMPTS) throw error;
      route = fresh;
    }
  }
}

/** KUBE_CONFLICT for a route whose spec someone else changed since generation `seen`, naming them. */
export function routeChanged(api: KubeApi, route: HttpRouteView, seen: number): DeployError {
  const change = route.lastChange;
  const who = change
    ? `\`${change.manager}\` (${change.operation}${change.time ? ` at ${change.time}` : ''})`
    : 'someone (the route records no field manager)';
  const weights = readWeights(route.rules);
  const now = typeof weights === 'string' ? weights : `${LIVE_SERVICE} ${weights.live}, ${PREVIEW_SERVICE} ${weights.preview}`;
  return new DeployError(
    'KUBE_CONFLICT',
    `HTTPRoute ${api.namespace}/${HTTP_ROUTE} was changed by ${who} since this command read it (generation ${seen}, now ${route.generation}); it was not overwritten. Its weights now: ${now}.`,
    {
      hint: `See the change with \`kubectl get httproute ${HTTP_ROUTE} -n ${api.namespace} -o yaml\`. If it is meant to stay, leave the route to whoever made it; else put the route back (\`kubectl apply -k deploy/kubernetes\`) and run the command again (a canary: \`deploy:canary --resume\` or \`--abort\`).`,
    },
  );
}
