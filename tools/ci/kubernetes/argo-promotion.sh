#!/usr/bin/env bash
# The Argo Rollouts variant on a cluster that runs the controller (the kubernetes CI job, or by
# hand): installs deploy/kubernetes/argo-rollouts into its own namespace, puts a new model on the
# preview ReplicaSet, checks that ml-preview serves it while ml-live still serves the old one,
# promotes, and checks that ml-live serves the new one. Without a Prometheus in the cluster
# (ANALYSIS=off, the default here) the prePromotionAnalysis is left out by a kustomize patch.
# ANALYSIS=judge keeps only the judge's Job: the new model answers differently (v1.1.0 against
# v1.0.0), so the judge fails it, the rollout is aborted and ml-live keeps serving the old one.
#   tools/ci/kubernetes/argo-promotion.sh [namespace] [image]
set -euo pipefail
cd "$(dirname "$0")/../../.."
# shellcheck source=tools/ci/kubernetes/restricted-pod.sh
. tools/ci/kubernetes/restricted-pod.sh

namespace="${1:-ml-argo}"
image="${2:-ml-model-service:local}"
analysis="${ANALYSIS:-off}"
rollout=ml-model-service

# Inside the checkout (tmp/ is git-ignored): kustomize takes only relative paths to another kustomization.
overlay="tmp/argo-overlay-$namespace"
mkdir -p "$overlay"
trap 'rm -rf "$overlay"' EXIT
{
  echo 'apiVersion: kustomize.config.k8s.io/v1beta1'
  echo 'kind: Kustomization'
  echo "namespace: $namespace"
  echo 'resources:'
  echo '  - ../../deploy/kubernetes/argo-rollouts'
  if [ "$analysis" = off ]; then
    echo 'patches:'
    echo '  - target: {kind: Rollout, name: ml-model-service}'
    echo '    patch: |'
    echo '      - op: remove'
    echo '        path: /spec/strategy/blueGreen/prePromotionAnalysis'
  elif [ "$analysis" = judge ]; then
    echo 'patches:'
    echo '  - target: {kind: Rollout, name: ml-model-service}'
    echo '    patch: |'
    echo '      - op: replace'
    echo '        path: /spec/strategy/blueGreen/prePromotionAnalysis'
    echo '        value: {templates: [{templateName: ml-model-service-judge}]}'
  fi
} > "$overlay/kustomization.yaml"

phase() { kubectl -n "$namespace" get rollout "$rollout" -o jsonpath='{.status.phase}'; }
wait_phase() {
  for _ in $(seq 1 60); do
    if [ "$(phase)" = "$1" ]; then return 0; fi
    sleep 5
  done
  echo "rollout $rollout did not reach phase $1 (now: $(phase))" >&2
  kubectl -n "$namespace" describe rollout "$rollout" >&2
  return 1
}
# The version a Service answers, asked from a pod in the cluster (the image has node, not curl).
version_of() {
  local pod="ask-$RANDOM"
  # The namespace enforces Pod Security "restricted": the pod says it complies (see restricted-pod.sh).
  kubectl -n "$namespace" run "$pod" --rm -i --quiet --restart=Never --image="$image" --image-pull-policy=IfNotPresent \
    --override-type=strategic --overrides="$(restricted_pod "$pod")" \
    --command -- node -e 'fetch(process.argv[1]).then((r) => r.json()).then((b) => console.log("version=" + b.version))' "http://$1/health" |
    sed -n 's/^version=//p'
}
expect_version() {
  local got
  got=$(version_of "$1")
  if [ "$got" != "$2" ]; then echo "$1 answers version '$got', expected $2" >&2; return 1; fi
  echo "$1 answers $2"
}

kubectl apply -k "$overlay"
wait_phase Healthy
expect_version ml-live v1.0.0

# A new model: MODEL_PATH of the pod template (found by name, so the patch follows the manifest).
index=$(kubectl -n "$namespace" get rollout "$rollout" -o json | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(r.spec.template.spec.containers[0].env.findIndex((e) => e.name === "MODEL_PATH"))')
kubectl -n "$namespace" patch rollout "$rollout" --type=json \
  -p "[{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/env/$index/value\",\"value\":\"/app/models/v1.1.0/model.onnx\"}]"
if [ "$analysis" = judge ]; then
  # The judge's Job compares ml-preview (v1.1.0) with ml-live (v1.0.0) on the same requests: the answers differ.
  wait_phase Degraded
  run=$(kubectl -n "$namespace" get analysisrun -o jsonpath='{.items[0].metadata.name}')
  [ "$(kubectl -n "$namespace" get analysisrun "$run" -o jsonpath='{.status.phase}')" = Failed ] || {
    echo "analysis run $run is not Failed" >&2
    exit 1
  }
  # The Job's log says why (it may already be gone: Argo Rollouts cleans up its Jobs).
  kubectl -n "$namespace" logs -l job-name --tail=30 || true
  expect_version ml-live v1.0.0
  echo "Argo Rollouts: the judge failed v1.1.0 (its answers differ from v1.0.0's); ml-live kept v1.0.0."
  exit 0
fi
wait_phase Paused
expect_version ml-preview v1.1.0
expect_version ml-live v1.0.0

kubectl argo rollouts promote "$rollout" -n "$namespace"
wait_phase Healthy
expect_version ml-live v1.1.0
echo "Argo Rollouts: v1.1.0 promoted from preview to live."
