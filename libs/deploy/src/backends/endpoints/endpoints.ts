import type { Color } from '@mlbg/contract';
import type { HttpCall, HttpClient } from '../../effects/deps';
import type { ColorAccess } from '../../gates/gate';

/**
 * Two colors at fixed http:// URLs, where nothing else of a deployment is reachable: a Job in a
 * cluster judging the preview Service against the active one (Argo Rollouts). Each request on a
 * fresh connection, as everywhere in the tool.
 */
export function endpointColors(urls: Readonly<Record<Color, string>>, http: HttpClient): ColorAccess {
  const send = (color: Color, call: HttpCall) => {
    const url = new URL(urls[color]);
    return http({ host: url.hostname, port: Number(url.port || 80) }, { ...call, path: `${url.pathname.replace(/\/+$/, '')}${call.path}` });
  };
  return {
    health: (color) => send(color, { method: 'GET', path: '/health' }),
    predict: (color, body) => send(color, { method: 'POST', path: '/predict', body }),
    recorded: () => undefined,
    request: (color, call) => send(color, call),
  };
}
