# Sourced by the kubernetes CI job's scripts. The namespaces enforce Pod Security "restricted";
# `kubectl run` makes a pod that does not say it complies, so each one-off pod gets this override:
#   kubectl run NAME ... --override-type=strategic --overrides="$(restricted_pod NAME)"
# (strategic: the container, named as the pod, is merged by name, not replaced).

# restricted_pod <pod name>: the override, as JSON.
restricted_pod() {
  printf '{"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":1000,"runAsGroup":1000,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"%s","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}' "$1"
}
