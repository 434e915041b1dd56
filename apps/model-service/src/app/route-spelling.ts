/**
 * Whether a request reached its route under the route's own spelling. Fastify's router decodes the
 * path before it matches, so `/%6detrics` reaches `/metrics` and `/%61dmin/predictions` reaches
 * `/admin/predictions`; a gateway that matches the raw path (the Kubernetes HTTPRoute) would pass
 * such a form to the public Service and expose a route meant to be internal. So the fixed part of the
 * route (all of it for a fixed path, the part before the first parameter otherwise) must be written
 * in the raw path exactly; parameters may still be encoded.
 */
export function spelledAsRouted(rawUrl: string, routePattern: string | undefined): boolean {
  // No route matched: the router answers its own 404.
  if (routePattern === undefined) return true;
  const [path] = rawUrl.split('?', 1);
  const firstParameter = routePattern.search(/[:*]/);
  return firstParameter === -1 ? path === routePattern : path.startsWith(routePattern.slice(0, firstParameter));
}
