import type { HttpAnswer, HttpCall } from '../../effects/deps';

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
  readonly containerPort: number | null;
  readonly conditions: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
}

export interface DeploymentChange {
  readonly image?: string;
  readonly modelPath?: string;
  readonly versionLabel?: string;
}

export interface PodView {
  readonly name: string;
  readonly ready: boolean;
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
