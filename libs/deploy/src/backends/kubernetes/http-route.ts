import {
  LIVE_SERVICE,
  MIRRORED_PATHS,
  PREVIEW_SERVICE,
  SERVICE_PORT,
  SHADOW_RELAY_SERVICE,
} from '../../render/kubernetes/kubernetes-names';
// Types only (erased at build): the rules as the Gateway API defines them.
import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';

/**
 * The HTTPRoute's rules as the canary and shadow traffic read and change them. Pure. A rule is
 * "weighted" when its backends are exactly the live and the preview Service: those carry the live
 * traffic, and a canary moves their weights together (every weighted rule gets the same ones). A
 * mirrored rule (its path is /predict or V2's /v2/models/) gets the RequestMirror filter to the
 * shadow relay while shadow traffic is on. Rules added by others (an /admin block, a redirect) are
 * left exactly as they are.
 */
export type HttpRouteRule = NonNullable<IHTTPRoute['spec']['rules']>[number];
type Filter = NonNullable<HttpRouteRule['filters']>[number];

/** The weights of the live and the preview Service in the weighted rules (not percents: Gateway API weights are relative). */
export interface ServiceWeights {
  readonly live: number;
  readonly preview: number;
}

const refName = (ref: { name: string }) => ref.name;

export function isWeighted(rule: HttpRouteRule): boolean {
  const names = (rule.backendRefs ?? []).map(refName).sort();
  return names.length === 2 && names[0] === LIVE_SERVICE && names[1] === PREVIEW_SERVICE;
}

export function isMirrored(rule: HttpRouteRule): boolean {
  return isWeighted(rule) && (rule.matches ?? []).some((match) => MIRRORED_PATHS.some((path) => match.path?.value === path));
}

/**
 * The weights of the weighted rules, or why they can not be read: no weighted rule, rules that
 * disagree, or weights that add up to 0 (the route would send nothing anywhere).
 */
export function readWeights(rules: readonly HttpRouteRule[]): ServiceWeights | string {
  const weighted = rules.filter(isWeighted);
  if (weighted.length === 0) return `no rule sends traffic to both ${LIVE_SERVICE} and ${PREVIEW_SERVICE}`;
  const weightsOf = (rule: HttpRouteRule): ServiceWeights => {
    const of = (name: string) => rule.backendRefs?.find((ref) => ref.name === name)?.weight ?? 1;
    return { live: of(LIVE_SERVICE), preview: of(PREVIEW_SERVICE) };
  };
  const first = weightsOf(weighted[0] as HttpRouteRule);
  const other = weighted.map(weightsOf).find((weights) => weights.live !== first.live || weights.preview !== first.preview);
  if (other)
    return `its rules disagree: one gives ${LIVE_SERVICE} ${first.live} and ${PREVIEW_SERVICE} ${first.preview}, another ${other.live} and ${other.preview}`;
  if (first.live + first.preview === 0) return `${LIVE_SERVICE} and ${PREVIEW_SERVICE} both have weight 0`;
  return first;
}

/** The rules with every weighted rule given these weights; the rest untouched. */
export function withWeights(rules: readonly HttpRouteRule[], weights: ServiceWeights): HttpRouteRule[] {
  return rules.map((rule) =>
    isWeighted(rule)
      ? {
          ...rule,
          backendRefs: (rule.backendRefs ?? []).map((ref) => ({
            ...ref,
            weight: ref.name === LIVE_SERVICE ? weights.live : weights.preview,
          })),
        }
      : rule,
  );
}

const isRelayMirror = (filter: Filter) => filter.type === 'RequestMirror' && filter.requestMirror?.backendRef.name === SHADOW_RELAY_SERVICE;

/** Whether the mirrored rules copy their requests to the relay now (all of them: half a mirror is reported as off). */
export function mirrorIsOn(rules: readonly HttpRouteRule[]): boolean {
  const mirrored = rules.filter(isMirrored);
  return mirrored.length > 0 && mirrored.every((rule) => (rule.filters ?? []).some(isRelayMirror));
}

/** The rules with the relay's RequestMirror filter on every mirrored rule (`on`), or on none. */
export function withMirror(rules: readonly HttpRouteRule[], on: boolean): HttpRouteRule[] {
  const mirror: Filter = { type: 'RequestMirror', requestMirror: { backendRef: { name: SHADOW_RELAY_SERVICE, port: SERVICE_PORT } } };
  return rules.map((rule) => {
    if (!isMirrored(rule)) return rule;
    const others = (rule.filters ?? []).filter((filter) => !isRelayMirror(filter));
    const filters = on ? [...others, mirror] : others;
    const { filters: _, ...rest } = rule;
    return filters.length > 0 ? { ...rest, filters } : rest;
  });
}
