#!/usr/bin/env bash
# The kubernetes CI job's check of what the Gateway exposes (also runnable by hand against any
# gateway in front of the manifests): the public routes answer 200, and the colors' internal
# routes (/admin, /metrics and their /preview/ forms) answer anything else. The HTTPRoute sends
# them to ml-internal-blocked, a Service with no endpoints.
#   tools/ci/kubernetes/internal-routes.sh <gateway url> <host the HTTPRoute serves>
set -euo pipefail

url=${1:?usage: $0 <gateway url, e.g. http://127.0.0.1:18080> <host, e.g. ml.example.com>}
host=${2:?usage: $0 <gateway url> <host, e.g. ml.example.com>}

# --path-as-is: curl sends /x/../metrics as written instead of resolving it first.
status() { curl -s --path-as-is -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: $host" "$url$1" || true; }

# A gateway (or a port-forward to it) that was just set up may take a moment to answer.
for _ in $(seq 60); do
  [[ $(status /health) == 200 ]] && break
  sleep 1
done

failed=0
for path in /health /preview/health; do
  code=$(status "$path")
  if [[ $code == 200 ]]; then
    echo "public   $path: $code"
  else
    echo "FAILED: $path answered $code through the gateway, expected 200" >&2
    failed=1
  fi
done
# The encoded and non-canonical forms too: a gateway that matches the raw path passes them to the
# public Service, and the color refuses them itself (apps/model-service/src/app/route-spelling.ts).
internal=(/admin/predictions /metrics /preview/admin/predictions /preview/metrics
  /%61dmin/predictions /%6detrics /%6Detrics /admin/%70redictions /admin%2Fpredictions
  /preview/%61dmin/predictions /preview/%6detrics /%70review/admin/predictions
  //admin/predictions //metrics /preview//metrics /x/../admin/predictions /x/../metrics)
for path in "${internal[@]}"; do
  code=$(status "$path")
  if [[ $code != 200 ]]; then
    echo "internal $path: $code"
  else
    echo "FAILED: $path answered 200 through the gateway: a color's internal route is public" >&2
    failed=1
  fi
done
exit "$failed"
