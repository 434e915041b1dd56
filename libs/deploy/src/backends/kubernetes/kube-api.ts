import type { HttpAnswer, HttpCall } from '../../effects/deps';
import type { HttpRouteRule } from './http-route';

/**
 * The part of the Kubernetes API the backend, its Lease and its history use, in the backend's own
 * terms. `client-node-api.ts` implements it over @kubernetes/client-node; every failure arrives as
 * a DeployError: KUBE_FORBIDDEN (403), KUBE_NOT_FOUND (404), KUBE_CONFLICT (409: a resourceVersion
 * that is not current any more, or an object that exists already), KUBE_API_FAILED (the rest).
 */
export interface KubeApi {
  readonly namespace: string;
  /** For messages: the context and the API server's URL. */
  readonly where: string;
  /** The API server's URL of a Service's proxy, e.g. `https://host:6443/api/v1/namespaces/ns/services/ml-live:http/proxy`. */
  proxyUrl(service: string): string;

  readService(name: string): Promise<ServiceView>;
  /** Sets `spec.selector`, only if the Service still has `resourceVersion` (else KUBE_CONFLICT). */
  patchServiceSelector(name: string, selector: Readonly<Record<string, string>>, resourceVersion: string): Promise<ServiceView>;

  readDeployment(name: string): Promise<DeploymentView>;
  /** Changes the container's image and/or MODEL_PATH, and the `version` label (strategic merge patch). */
  patchDeployment(name: string, change: DeploymentChange): Promise<DeploymentView>;

  listPods(labelSelector: string): Promise<PodView[]>;
  /** The pods behind a Service right now (its EndpointSlices). */
  listEndpoints(service: string): Promise<EndpointView[]>;

  /** undefined when there is none. */
  readLease(name: string): Promise<LeaseView | undefined>;
  createLease(name: string, lease: LeaseSpec): Promise<LeaseView>;
  /** Only if the Lease still has `resourceVersion` (else KUBE_CONFLICT). */
  replaceLease(name: string, lease: LeaseSpec, resourceVersion: string): Promise<LeaseView>;

  /** undefined when there is none. */
  readConfigMap(name: string): Promise<ConfigMapView | undefined>;
  createConfigMap(name: string, data: Readonly<Record<string, string>>): Promise<ConfigMapView>;
  replaceConfigMap(name: string, data: Readonly<Record<string, string>>, resourceVersion: string): Promise<ConfigMapView>;

  /** One request to a Service through the API server's service proxy (`services/<name>:http/proxy`). */
  proxy(service: string, call: HttpCall): Promise<HttpAnswer>;
  /** One request to a pod's port through the API server's pod proxy (`pods/<name>:<port>/proxy`): each pod's own records. */
  podProxy(pod: string, port: number, call: HttpCall): Promise<HttpAnswer>;
  /** One request to a Service of any namespace, by port number or name, through the API server (Prometheus in its own namespace). */
  serviceProxy(target: ServiceTarget, call: HttpCall): Promise<HttpAnswer>;

  /** undefined when there is none (a cluster without the Gateway API, or an install without the route). */
  readHttpRoute(name: string): Promise<HttpRouteView | undefined>;
  /**
   * Sets `spec.rules` (a merge patch under this tool's field manager), only if the route still has
   * `resourceVersion` (else KUBE_CONFLICT).
   */
  patchHttpRouteRules(name: string, rules: readonly HttpRouteRule[], resourceVersion: string): Promise<HttpRouteView>;
}

/** The field manager this tool's writes are recorded under (`metadata.managedFields`), so `kubectl` shows who moved a route. */
export const FIELD_MANAGER = 'mlbg-deploy';

export interface ServiceTarget {
  readonly namespace: string;
  readonly service: string;
  /** A port number or name of the Service. */
  readonly port: string;
}

/** Who last changed an object's spec, from its `managedFields` (status writes by controllers left out). */
export interface ChangeRecord {
  readonly manager: string;
  readonly operation: string;
  /** ISO time, when the API server recorded one. */
  readonly time: string | null;
}

export interface HttpRouteView {
  readonly name: string;
  readonly resourceVersion: string;
  /** Changes with every spec change, not with the gateway's status updates (which change the resourceVersion). */
  readonly generation: number;
  readonly rules: readonly HttpRouteRule[];
  readonly lastChange: ChangeRecord | null;
}

export interface ServiceView {
  readonly name: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly resourceVersion: string;
}

export interface DeploymentView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly generation: number;
  readonly observedGeneration: number;
  /** spec.replicas */
  readonly desired: number;
  /** status.replicas: old and new pods together, during a rollout. */
  readonly current: number;
  readonly updated: number;
  readonly ready: number;
  readonly available: number;
  readonly image: string;
  /** The container's MODEL_PATH. */
  readonly modelPath: string;
  /** The container's plain environment variables (those with a value). */
  readonly env: Readonly<Record<string, string>>;
  readonly containerPort: number | null;
  readonly conditions: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
}

export interface DeploymentChange {
  readonly image?: string;
  readonly modelPath?: string;
  readonly versionLabel?: string;
  readonly replicas?: number;
  /** Variables to set (merged by name). */
  readonly env?: Readonly<Record<string, string>>;
  /** The container the change is for; default the model service's. */
  readonly container?: string;
}

export interface PodView {
  readonly name: string;
  readonly ready: boolean;
  /** The service container's `http` port, for the pod proxy; null when the pod has none. */
  readonly port: number | null;
}

export interface EndpointView {
  /** The pod's name (targetRef), when the endpoint is a pod. */
  readonly pod: string | undefined;
  readonly ready: boolean;
}

export interface LeaseSpec {
  /** undefined = nobody holds it. */
  readonly holder?: string;
  readonly durationSeconds: number;
  readonly acquireTime?: Date;
  readonly renewTime?: Date;
}

export interface LeaseView extends LeaseSpec {
  readonly resourceVersion: string;
}

export interface ConfigMapView {
  readonly data: Readonly<Record<string, string>>;
  readonly resourceVersion: string;
}
