#!/usr/bin/env bash
# The kubernetes CI job's switch under load (also runnable by hand against any cluster with the
# manifests installed, see docs/kubernetes.md): a pod in the cluster sends /predict to
# ml-live while the deploy CLI switches to green and rolls back, as the ml-deployer ServiceAccount;
# then every response is checked: all 200, v1.0.0 then v1.1.0 after the switch, v1.0.0 again at the end.
#   tools/ci/kubernetes/switch-under-load.sh <kube context of the deployer> [namespace] [image]
set -euo pipefail
cd "$(dirname "$0")/../../.."

context="${1:?usage: $0 <kube context> [namespace] [image]}"
namespace="${2:-ml-bluegreen}"
image="${3:-ml-model-service:local}"
seconds=60
# shellcheck source=tools/ci/kubernetes/restricted-pod.sh
. tools/ci/kubernetes/restricted-pod.sh

kubectl -n "$namespace" delete pod ml-load --ignore-not-found --wait
# The namespace enforces Pod Security "restricted": the pod says it complies (see restricted-pod.sh).
kubectl -n "$namespace" run ml-load --image="$image" --image-pull-policy=IfNotPresent --restart=Never \
  --override-type=strategic --overrides="$(restricted_pod ml-load)" \
  --command -- node -e "$(cat tools/ci/kubernetes/load.js)" "http://ml-live/predict" "$seconds" 8
kubectl -n "$namespace" wait --for=condition=Ready pod/ml-load --timeout=120s

sleep 10
npx nx run deploy:switch --backend=kubernetes --context="$context" --namespace="$namespace" --color=green
sleep 15
npx nx run deploy:rollback --backend=kubernetes --context="$context" --namespace="$namespace"
npx nx run deploy:status --backend=kubernetes --context="$context" --namespace="$namespace"

kubectl -n "$namespace" wait --for=jsonpath='{.status.phase}'=Succeeded pod/ml-load --timeout="$((seconds + 60))s" || true
summary=$(kubectl -n "$namespace" logs ml-load | tail -n 1)
echo "load: $summary"
node -e '
  const s = JSON.parse(process.argv[1]);
  const problems = [];
  if (s.sent < 100) problems.push(`only ${s.sent} requests were sent`);
  if (s.failed !== 0) problems.push(`${s.failed} of ${s.sent} requests did not answer 200: ${JSON.stringify({ statuses: s.statuses, errors: s.errors })}`);
  if (JSON.stringify(s.versionOrder) !== JSON.stringify(["v1.0.0", "v1.1.0"])) problems.push(`versions seen ${JSON.stringify(s.versionOrder)}, expected v1.0.0, then v1.1.0 after the switch`);
  if (s.lastVersion !== "v1.0.0") problems.push(`the last answer came from ${s.lastVersion}, expected v1.0.0 after the rollback`);
  if (problems.length) { console.error(problems.join("\n")); process.exit(1); }
  console.log(`${s.sent} requests, all 200: ${JSON.stringify(s.versions)}`);
' "$summary"
