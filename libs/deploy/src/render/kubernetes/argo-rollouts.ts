import type { DeploymentSpec } from '../../spec/deployment-spec';
import { INITIAL_LIVE_COLOR } from '../../spec/sockets';
import { IMAGE_APP_DIR } from '../compose/compose';
import type { GeneratedFile } from '../generated-file';
import {
  APP_NAME,
  ARGO_ROLLOUTS_CANARY_DIR,
  ARGO_ROLLOUTS_DIR,
  HTTP_ROUTE,
  LIVE_SERVICE,
  PREVIEW_SERVICE,
  SERVICE_PORT,
  versionLabel,
} from './kubernetes-names';
import { httpRoute, metricsService, namespace, podTemplate, service, serviceMonitor, yamlFile } from './kubernetes';
import { PREVIEW_HASH_ARG, analysisQueries } from './monitoring';
// Types only (erased at build): the compiler refuses a field these objects do not have.
import type { IAnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import type { IRollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';

export const ROLLOUT_NAME = APP_NAME;
export const ANALYSIS_TEMPLATE = `${APP_NAME}-preview`;
/** The AnalysisTemplate whose Job runs `deploy judge` against the preview (or canary) and the active (stable) Service. */
export const JUDGE_TEMPLATE = `${APP_NAME}-judge`;
/** The deployment spec as the judge reads it (its limits): a ConfigMap mounted into the Job. */
export const SPEC_CONFIGMAP = `${APP_NAME}-deploy-spec`;
const SPEC_MOUNT = '/etc/mlbg';
const SPEC_FILE = 'deployment.json';
/** The deploy CLI inside the service image (the Dockerfile builds libs/deploy next to the service). */
export const IMAGE_CLI = `${IMAGE_APP_DIR}/dist/node_modules/@mlbg/deploy/src/cli/main.js`;
/** Bodies the judge sends when the spec names no replay file: one-feature rows, shipped in the image's models/. */
export const DEFAULT_JUDGE_REPLAY = 'models/replay/one-feature.jsonl';
/** The Gateway API plugin of Argo Rollouts: it moves the HTTPRoute's weights of the canary and stable Services. */
export const GATEWAY_API_PLUGIN = 'argoproj-labs/gatewayAPI';
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

/** The spec the judge Job reads its limits from, exactly as the CLI parsed it (every default written out). */
function specConfigMap(spec: DeploymentSpec): IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: SPEC_CONFIGMAP, namespace: spec.kubernetes.namespace, labels: { app: APP_NAME } },
    data: { [SPEC_FILE]: `${JSON.stringify(spec, null, 2)}\n` },
  };
}

/**
 * The judge's container: `deploy judge` from the service image, the same bodies to the canary
 * (the preview Service) and the stable (the active Service), judged with the spec's limits. Its
 * exit status is the verdict (0 pass, 1 fail, 3 inconclusive) and its log says why, check by check.
 */
export function judgeContainer(spec: DeploymentSpec): IContainer {
  const url = (name: string) => `http://${name}:${SERVICE_PORT}`;
  return {
    name: 'judge',
    image: spec.kubernetes.image,
    imagePullPolicy: 'IfNotPresent',
    command: [
      'node',
      IMAGE_CLI,
      'judge',
      `--canary-url=${url(PREVIEW_SERVICE)}`,
      `--stable-url=${url(LIVE_SERVICE)}`,
      `--replay=${IMAGE_APP_DIR}/${spec.predictionDiff?.replay ?? DEFAULT_JUDGE_REPLAY}`,
    ],
    env: [{ name: 'BLUEGREEN_SPEC', value: `${SPEC_MOUNT}/${SPEC_FILE}` }],
    volumeMounts: [
      { name: 'spec', mountPath: SPEC_MOUNT, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
    resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  };
}

function judgeTemplate(spec: DeploymentSpec): IAnalysisTemplate {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: JUDGE_TEMPLATE, namespace: spec.kubernetes.namespace, labels: { app: APP_NAME } },
    spec: {
      metrics: [
        {
          name: 'judge',
          // A failed Job is a failed analysis: a failing or an inconclusive verdict never promotes.
          failureLimit: 0,
          provider: {
            job: {
              spec: {
                backoffLimit: 0,
                activeDeadlineSeconds: 300,
                template: {
                  spec: {
                    restartPolicy: 'Never',
                    automountServiceAccountToken: false,
                    securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
                    containers: [judgeContainer(spec)],
                    volumes: [
                      { name: 'spec', configMap: { name: SPEC_CONFIGMAP } },
                      { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
                    ],
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

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
            templates: [{ templateName: ANALYSIS_TEMPLATE }, { templateName: JUDGE_TEMPLATE }],
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
 * The same Rollout with `strategy.canary`: the spec's steps, each held for its interval and then
 * judged by the judge's Job (canary = the canaryService ml-preview, stable = the stableService
 * ml-live); Argo Rollouts' Gateway API plugin moves the HTTPRoute's weights. A failed or
 * inconclusive judgement aborts the rollout: all traffic back on the stable pods.
 */
function canaryRollout(spec: DeploymentSpec): IRollout {
  const blueGreen = rollout(spec);
  const steps = spec.canary.steps.filter((weight) => weight < 100);
  return {
    ...blueGreen,
    spec: {
      ...blueGreen.spec,
      strategy: {
        canary: {
          canaryService: PREVIEW_SERVICE,
          stableService: LIVE_SERVICE,
          trafficRouting: {
            plugins: { [GATEWAY_API_PLUGIN]: { httpRoute: HTTP_ROUTE, namespace: spec.kubernetes.namespace } },
          },
          steps: steps.flatMap((weight) => [
            { setWeight: weight },
            { pause: { duration: `${spec.canary.intervalSeconds}s` } },
            { analysis: { templates: [{ templateName: JUDGE_TEMPLATE }] } },
          ]),
        },
      },
    },
  };
}

/**
 * `deploy/kubernetes/argo-rollouts/`: the same service as one Rollout with `strategy.blueGreen`
 * (the live and preview Services, manual promotion after the analysis), its AnalysisTemplates
 * (smoke requests, then the preview pods' success rate and p99 from Prometheus; and the judge's Job,
 * the preview against the active Service on the same requests), and the metrics Service and a
 * ServiceMonitor by revision (the per-color alerts of the Deployments do not apply: a Rollout has
 * revisions, not colors). Also `deploy/kubernetes/argo-rollouts-canary/`, the canary variant
 * (`canaryRollout`, and the HTTPRoute whose weights the plugin moves instead of the analysis). Pure.
 */
export function renderArgoRolloutsFiles(spec: DeploymentSpec): GeneratedFile[] {
  return [
    ...rolloutFolder(spec, ARGO_ROLLOUTS_DIR, rollout(spec), { name: 'analysis-template.yaml', content: analysisTemplate(spec) }),
    ...rolloutFolder(spec, ARGO_ROLLOUTS_CANARY_DIR, canaryRollout(spec), { name: 'httproute.yaml', content: httpRoute(spec) }),
  ];
}

/**
 * One Rollout's folder, blue-green or canary: its kustomization, the namespace, the Rollout, the
 * live and preview Services, the one file its strategy adds, the judge and its spec, the metrics.
 */
function rolloutFolder(
  spec: DeploymentSpec,
  dir: string,
  rolloutObject: IRollout,
  strategyFile: { readonly name: string; readonly content: object },
): GeneratedFile[] {
  const at = (file: string) => `${dir}/${file}`;
  const files = [
    yamlFile(at('namespace.yaml'), namespace(spec)),
    yamlFile(at('rollout.yaml'), rolloutObject),
    // Argo Rollouts adds each revision's rollouts-pod-template-hash to these selectors.
    yamlFile(at('service-live.yaml'), service(spec, LIVE_SERVICE, { app: APP_NAME })),
    yamlFile(at('service-preview.yaml'), service(spec, PREVIEW_SERVICE, { app: APP_NAME })),
    yamlFile(at(strategyFile.name), strategyFile.content),
    yamlFile(at('judge-template.yaml'), judgeTemplate(spec), specConfigMap(spec)),
    yamlFile(at('service-metrics.yaml'), metricsService(spec)),
    yamlFile(at('servicemonitor.yaml'), serviceMonitor(spec, ['rollouts-pod-template-hash'])),
  ];
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: spec.kubernetes.namespace,
    resources: files.map((file) => file.path.slice(dir.length + 1)),
  };
  return [yamlFile(at('kustomization.yaml'), kustomization), ...files];
}
