#!/usr/bin/env bash
# The kubernetes CI job's check of what the Gateway exposes (also runnable by hand against any
# gateway in front of the manifests): the public routes answer 200, and the colors' internal
# routes (/admin, /metrics and their /preview/ forms) answer anything else. The HTTPRoute sends
# them to ml-internal-blocked, a Service with no endpoints.
#   tools/ci/kubernetes/internal-routes.sh <gateway url> <host the HTTPRoute serves>
set -euo pipefail

url=${1:?usage: $0 <gateway url, e.g. http://127.0.0.1:18080> <host, e.g. ml.example.com>}
host=${2:?usage: $0 <gateway url> <host, e.g. ml.example.com>}

status() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: $host" "$url$1" || true; }

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
for path in /admin/predictions /metrics /preview/admin/predictions /preview/metrics; do
  code=$(status "$path")
  if [[ $code != 200 ]]; then
    echo "internal $path: $code"
  else
    echo "FAILED: $path answered 200 through the gateway: a color's internal route is public" >&2
    failed=1
  fi
done
exit "$failed"
