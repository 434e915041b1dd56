import type { DeploymentSpec } from '../../spec/deployment-spec';
import { INITIAL_LIVE_COLOR } from '../../spec/sockets';
import type { GeneratedFile } from '../generated-file';
import { APP_NAME, ARGO_ROLLOUTS_DIR, LIVE_SERVICE, PREVIEW_SERVICE, SERVICE_PORT, versionLabel } from './kubernetes-names';
import { metricsService, namespace, podTemplate, service, serviceMonitor, yamlFile } from './kubernetes';
import { PREVIEW_HASH_ARG, analysisQueries } from './monitoring';
// Types only (erased at build): the compiler refuses a field these objects do not have.
import type { IAnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import type { IRollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';

export const ROLLOUT_NAME = APP_NAME;
export const ANALYSIS_TEMPLATE = `${APP_NAME}-preview`;
/** The old pods stay this long after a promotion: an instant `kubectl argo rollouts undo` while they run. */
export const SCALE_DOWN_DELAY_SECONDS = 600;
/** Smoke requests the analysis sends to the preview Service, so its metrics are never "no data". */
export const SMOKE_REQUESTS = 200;
/** The Prometheus metrics wait this long, so the smoke requests have been scraped (interval 15 s). */
const ANALYSIS_DELAY = '45s';

/**
 * Runs in the analysis' Job, in the service's own image (node, no curl): POSTs /predict to the
 * preview Service, exits 1 at the first answer that is not 200.
 */
const SMOKE_SCRIPT = [
  `const url = 'http://${PREVIEW_SERVICE}:${SERVICE_PORT}/predict';`,
  `const body = JSON.stringify({ features: [[1], [2], [3]] });`,
  `(async () => {`,
  `  for (let i = 0; i < ${SMOKE_REQUESTS}; i++) {`,
  `    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });`,
  `    if (res.status !== 200) { console.error('request ' + i + ': ' + res.status + ' ' + (await res.text())); process.exit(1); }`,
  `  }`,
  `  console.log('${SMOKE_REQUESTS} predictions from the preview pods');`,
  `})().catch((error) => { console.error(error.message); process.exit(1); });`,
].join('\n');

function rollout(spec: DeploymentSpec): IRollout {
  const color = INITIAL_LIVE_COLOR;
  const model = spec.colors[color].model;
  const labels = { app: APP_NAME, version: versionLabel(model) };
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: ROLLOUT_NAME, namespace: spec.kubernetes.namespace, labels },
    spec: {
      replicas: spec.kubernetes.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: { app: APP_NAME } },
      // Argo Rollouts has revisions, not colors: every pod answers as `blue`; the revision is the pod-template-hash label.
      template: podTemplate(spec, { labels, color, model }),
      strategy: {
        blueGreen: {
          activeService: LIVE_SERVICE,
          previewService: PREVIEW_SERVICE,
          autoPromotionEnabled: false,
          scaleDownDelaySeconds: SCALE_DOWN_DELAY_SECONDS,
          prePromotionAnalysis: {
            templates: [{ templateName: ANALYSIS_TEMPLATE }],
            args: [{ name: PREVIEW_HASH_ARG, valueFrom: { podTemplateHashValue: 'Latest' } }],
          },
        },
      },
    },
  };
}

function analysisTemplate(spec: DeploymentSpec): IAnalysisTemplate {
  const image = spec.kubernetes.image;
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: ANALYSIS_TEMPLATE, namespace: spec.kubernetes.namespace, labels: { app: APP_NAME } },
    spec: {
      args: [{ name: PREVIEW_HASH_ARG }],
      metrics: [
        {
          name: 'smoke-requests',
          provider: {
            job: {
              spec: {
                backoffLimit: 0,
                activeDeadlineSeconds: 120,
                template: {
                  spec: {
                    restartPolicy: 'Never',
                    automountServiceAccountToken: false,
                    securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
                    containers: [
                      {
                        name: 'smoke',
                        image,
                        imagePullPolicy: 'IfNotPresent',
                        command: ['node', '-e', SMOKE_SCRIPT],
                        resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
                        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                      },
                    ],
                  },
                },
              },
            },
          },
        },
        ...analysisQueries().map((metric) => ({
          name: metric.name,
          initialDelay: ANALYSIS_DELAY,
          successCondition: metric.successCondition,
          failureLimit: 0,
          provider: { prometheus: { address: spec.kubernetes.prometheusUrl, query: metric.query } },
        })),
      ],
    },
  };
}

/**
 * `deploy/kubernetes/argo-rollouts/`: the same service as one Rollout with `strategy.blueGreen`
 * (the live and preview Services, manual promotion after the analysis), its AnalysisTemplate
 * (smoke requests, then the preview pods' success rate and p99 from Prometheus), and the metrics
 * Service and a ServiceMonitor by revision (the per-color alerts of the Deployments do not apply:
 * a Rollout has revisions, not colors). Pure.
 */
export function renderArgoRolloutsFiles(spec: DeploymentSpec): GeneratedFile[] {
  const at = (file: string) => `${ARGO_ROLLOUTS_DIR}/${file}`;
  const files = [
    yamlFile(at('namespace.yaml'), namespace(spec)),
    yamlFile(at('rollout.yaml'), rollout(spec)),
    // Argo Rollouts adds the revision's rollouts-pod-template-hash to these selectors.
    yamlFile(at('service-live.yaml'), service(spec, LIVE_SERVICE, { app: APP_NAME })),
    yamlFile(at('service-preview.yaml'), service(spec, PREVIEW_SERVICE, { app: APP_NAME })),
    yamlFile(at('analysis-template.yaml'), analysisTemplate(spec)),
    yamlFile(at('service-metrics.yaml'), metricsService(spec)),
    yamlFile(at('servicemonitor.yaml'), serviceMonitor(spec, ['rollouts-pod-template-hash'])),
  ];
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: spec.kubernetes.namespace,
    resources: files.map((file) => file.path.slice(ARGO_ROLLOUTS_DIR.length + 1)),
  };
  return [yamlFile(at('kustomization.yaml'), kustomization), ...files];
}
