import { parseAllDocuments } from 'yaml';
import * as apps from 'kubernetes-models/apps/v1';
import * as core from 'kubernetes-models/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as argo from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';
import * as gateway from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import * as monitoring from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

type Model = new (data: never) => { validate(): void };

/** The official schemas (kubernetes-models and its Argo Rollouts, Gateway API and Prometheus operator packages) by apiVersion and kind. */
const MODELS: Record<string, Record<string, unknown>> = {
  v1: core,
  'apps/v1': apps,
  'networking.k8s.io/v1': networking,
  'policy/v1': policy,
  'rbac.authorization.k8s.io/v1': rbac,
  'argoproj.io/v1alpha1': argo,
  'gateway.networking.k8s.io/v1': gateway,
  'monitoring.coreos.com/v1': monitoring,
};

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** The objects of a multi-document YAML text. */
export function yamlObjects(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as KubernetesObject)
    .filter((object) => object !== null);
}

/**
 * Validates one object against its official schema; throws naming the object and the problem.
 * An apiVersion/kind without a model is an error too, so nothing goes unchecked.
 */
export function validateObject(object: KubernetesObject): void {
  const Model = MODELS[object.apiVersion]?.[object.kind] as Model | undefined;
  const name = `${object.apiVersion} ${object.kind} ${object.metadata?.name}`;
  if (!Model) throw new Error(`${name}: no schema model for this apiVersion and kind`);
  try {
    new Model(object as never).validate();
  } catch (error) {
    throw new Error(`${name}: ${(error as Error).message}`);
  }
}
