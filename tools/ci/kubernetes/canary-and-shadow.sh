#!/usr/bin/env bash
# The kubernetes CI job's canary and shadow traffic (also runnable by hand against a cluster with
# a Gateway API implementation, the manifests, a Prometheus scraping the ServiceMonitor and
# deploy/kubernetes/prometheus-access installed, see docs/kubernetes.md): a pod in the cluster
# sends /predict through the Gateway while, as the ml-deployer ServiceAccount,
#   1. a canary of the idle color is promoted (the HTTPRoute's weights move, Prometheus judges);
#   2. a canary judged by a spec whose p99 limit no color can meet is rolled back;
#   3. shadow traffic mirrors live requests to the idle color, and deploy:diff pairs them.
#   tools/ci/kubernetes/canary-and-shadow.sh <kube context of the deployer> [namespace] [image]
set -euo pipefail
cd "$(dirname "$0")/../../.."

context="${1:?usage: $0 <kube context> [namespace] [image]}"
namespace="${2:-ml-bluegreen}"
image="${3:-ml-model-service:local}"
host=$(node -p 'require("./deploy/deployment.json").kubernetes?.host ?? "ml.example.com"')
seconds=600
deploy() { npx nx run "deploy:$1" -- --backend=kubernetes --context="$context" --namespace="$namespace" "${@:2}"; }
weights() {
  kubectl -n "$namespace" get httproute ml-model-service \
    -o jsonpath='{range .spec.rules[-1:]}{.backendRefs[0].name}={.backendRefs[0].weight} {.backendRefs[1].name}={.backendRefs[1].weight}{end}'
}
live_color() { kubectl -n "$namespace" get service ml-live -o jsonpath='{.spec.selector.color}'; }
fail() { echo "$*" >&2; exit 1; }

# The Gateway's own Service (Envoy Gateway makes one per Gateway) is what clients reach.
gateway=$(kubectl -n envoy-gateway-system get service \
  -l "gateway.envoyproxy.io/owning-gateway-name=ml-gateway,gateway.envoyproxy.io/owning-gateway-namespace=$namespace" \
  -o jsonpath='{.items[0].metadata.name}')
[ -n "$gateway" ] || fail "no Service of the Gateway ml-gateway in envoy-gateway-system"
kubectl -n "$namespace" delete pod ml-gateway-load --ignore-not-found --wait
kubectl -n "$namespace" run ml-gateway-load --image="$image" --image-pull-policy=IfNotPresent --restart=Never \
  --overrides='{"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":1000}}}' \
  --command -- node -e "$(cat tools/ci/kubernetes/load.js)" "http://$gateway.envoy-gateway-system/predict" "$seconds" 4 "$host"
kubectl -n "$namespace" wait --for=condition=Ready pod/ml-gateway-load --timeout=120s
trap 'kubectl -n "$namespace" delete pod ml-gateway-load --ignore-not-found --wait=false' EXIT

before=$(live_color)
echo "1. a canary promoted: live is $before, route $(weights)"
deploy canary --steps=50,100 --interval=30s
[ "$(live_color)" != "$before" ] || fail "the canary was not promoted: ml-live still selects $before"
[ "$(weights)" = "ml-live=100 ml-preview=0" ] || fail "after the promotion the route is $(weights)"

before=$(live_color)
echo "2. a canary rolled back (a spec whose p99 limit is 0.001 ms): live is $before"
strict="$RUNNER_TEMP/strict-spec.json"
node -e 'const s = require("./deploy/deployment.json"); s.canary.analysis.maxP99Ms = 0.001; console.log(JSON.stringify(s))' > "$strict"
if BLUEGREEN_SPEC="$strict" deploy canary --steps=50,100 --interval=30s; then fail "a canary no color can pass was promoted"; fi
[ "$(live_color)" = "$before" ] || fail "after the rollback ml-live selects $(live_color), expected $before"
[ "$(weights)" = "ml-live=100 ml-preview=0" ] || fail "after the rollback the route is $(weights)"

echo "3. shadow traffic and the diff"
deploy shadow on --percent=100
sleep 30
deploy shadow status
diff_json=$(SWC_NODE_PROJECT=libs/deploy/tsconfig.lib.json node -r @swc-node/register libs/deploy/src/cli/main.ts \
  diff --backend=kubernetes --context="$context" --namespace="$namespace" --json)
deploy shadow off
node -e '
  const out = JSON.parse(process.argv[1]);
  const report = out.result?.report;
  if (!report || report.pairs < 10) { console.error(`too few mirrored pairs: ${JSON.stringify(out).slice(0, 500)}`); process.exit(1); }
  console.log(`diff: ${report.pairs} pairs, ${report.live.version} against ${report.candidate.version}`);
' "$diff_json"
