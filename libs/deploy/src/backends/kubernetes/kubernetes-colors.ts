import type { Color } from '@mlbg/contract';
import type { HttpCall } from '../../effects/deps';
import type { ColorAccess } from '../../gates/gate';
import { APP_NAME } from '../../render/kubernetes/kubernetes-names';
import type { KubeApi } from './kube-api';

/**
 * The colors on Kubernetes: each through the API server's service proxy of whichever Service
 * (ml-live or ml-preview) selects it, and each of its ready pods through the pod proxy (every pod
 * keeps its own prediction records, so the diff and the judge read them pod by pod).
 */
export function colorAccess(api: KubeApi, serviceFor: (color: Color) => Promise<string>): ColorAccess {
  /** The port of each pod, as the last listing gave it (the pod proxy needs the number). */
  const ports = new Map<string, number>();
  const toService = async (color: Color, call: HttpCall) => api.proxy(await serviceFor(color), call);
  return {
    health: (color) => toService(color, { method: 'GET', path: '/health' }),
    predict: (color, body) => toService(color, { method: 'POST', path: '/predict', body }),
    recorded: () => undefined,
    async request(color, call, instance) {
      if (instance === undefined) return toService(color, call);
      const port = ports.get(instance);
      if (port === undefined) throw new Error(`pod ${instance} is not a ready pod of ${color} with an http port`);
      return api.podProxy(instance, port, call);
    },
    async instances(color) {
      const pods = (await api.listPods(`app=${APP_NAME},color=${color}`)).filter((pod) => pod.ready && pod.port !== null);
      for (const pod of pods) ports.set(pod.name, pod.port as number);
      return pods.map((pod) => pod.name);
    },
  };
}
