/**
 * The closed catalogue of the deploy runtime's failures. Each says what happened (`message`, to
 * which a command appends the specifics) and what to do (`hint`). The CLI maps every code to exit
 * status 1; `USAGE` is the only code that exits 2. docs/operate.md lists every code (a test checks).
 */
export const DEPLOY_ERRORS = {
  USAGE: {
    message: 'The command line is not valid.',
    hint: 'The commands and flags are listed by the `help` command and in docs/operate.md.',
  },
  SPEC_INVALID: {
    message: 'The deployment spec or an override of it is not valid.',
    hint: 'Fix the field named above (deploy/deployment.json, a flag or a BLUEGREEN_* variable) and run the command again.',
  },
  SERVICE_NOT_BUILT: {
    message: 'The model service is not built.',
    hint: 'Run `npx nx run model-service:build` (the deploy:up target does it for you), then try again.',
  },
  NGINX_NOT_FOUND: {
    message: 'nginx is not installed (not on PATH, nor in /usr/sbin, /usr/local/sbin or /sbin).',
    hint: 'Install it: `apt-get install -y nginx` on Debian/Ubuntu, `apk add nginx` on Alpine, `dnf install -y nginx` on Fedora/RHEL, `brew install nginx` on macOS. Only the binary is used; no system service is started.',
  },
  NGINX_CONFIG_INVALID: {
    message: 'nginx refused the rendered configuration (`nginx -t` failed).',
    hint: "Read nginx's output above. If it names a path, check that it exists and is readable; if it is a bug in the renderer, run the deploy tests (`npx nx test deploy`).",
  },
  PORT_UNAVAILABLE: {
    message: 'A port the stack needs can not be used.',
    hint: 'Stop what is listening there (`ss -ltnp | grep :PORT`), or choose other ports with --router-port, --blue-port and --green-port (or BLUEGREEN_ROUTER_PORT etc.).',
  },
  MODEL_NOT_FOUND: {
    message: 'The model file does not exist.',
    hint: 'Give the path of an .onnx file, relative to the workspace root or absolute, e.g. models/v1.1.0/model.onnx.',
  },
  RUNTIME_DIR_UNSAFE: {
    message: 'The runtime folder for the sockets and nginx can not be used.',
    hint: 'Remove the folder named above if it is left over, or point TMPDIR at a folder everyone can traverse (e.g. TMPDIR=/tmp).',
  },
  START_FAILED: {
    message: 'The stack did not become healthy; everything this command started was stopped again.',
    hint: "Read the log lines above (full logs in the state folder's logs/), fix the cause, and run `npx nx run deploy:up` again.",
  },
  REPAIR_FAILED: {
    message:
      'The stack was partly running; `up` started what was missing, but it did not become healthy. What was running was left running.',
    hint: 'Read the log lines above and `npx nx run deploy:status` (restarts, last exit per process); fix the cause and run `npx nx run deploy:up` again, or `deploy:down` and `deploy:up` to start everything anew.',
  },
  STATE_NOT_WRITABLE: {
    message: "The state folder can not be written (read-only, full, or not this user's).",
    hint: 'Free space or make the state folder writable (`df -h` and `ls -ld` on the folder named above), then run the command again; what did and did not change is said above.',
  },
  ALREADY_PARTLY_RUNNING: {
    message: 'The stack is only partly running.',
    hint: 'Run `npx nx run deploy:down` and then `npx nx run deploy:up`. (An idle color that died can also be restarted alone with `npx nx run deploy:release --model=<its model>`.)',
  },
  STOP_FAILED: {
    message: 'A process of the stack did not exit, even after SIGKILL.',
    hint: 'Look at it with `ps -o pid,stat,cmd -p PID`; a process stuck in the kernel (state D) exits when its I/O completes. Run `npx nx run deploy:down` again afterwards.',
  },
  STACK_NOT_RUNNING: {
    message: 'The local stack is not running.',
    hint: 'Start it with `npx nx run deploy:up` (with the same --state-dir / BLUEGREEN_STATE_DIR, if you used one).',
  },
  STATE_CORRUPT: {
    message: 'The state file can not be read.',
    hint: 'Run `npx nx run deploy:down` (it stops the stack from its pid files and moves the bad file aside), then `npx nx run deploy:up`.',
  },
  LOCKED: {
    message: 'Another deploy command (switch, rollback, release, up or down) is running on this stack right now; nothing was changed.',
    hint: 'Wait for it to finish and run the command again. If no deploy command is running, the lock expires by itself within 10 seconds.',
  },
  PREFLIGHT_FAILED: {
    message: 'The target color failed its preflight checks, so traffic was NOT switched; nothing was changed.',
    hint: 'Check the target with `npx nx run deploy:status`; restart or redeploy it with `npx nx run deploy:release --model=<path>`, then switch again.',
  },
  VERIFY_FAILED: {
    message: 'After the switch nginx did not serve the target color, so traffic was switched back.',
    hint: "Check nginx and both colors with `npx nx run deploy:status` and the nginx log in the state folder's logs/; `npx nx run deploy:down` and `deploy:up` restart the stack.",
  },
  REVERT_FAILED: {
    message: 'The switch failed its verification AND switching back failed: the live route may point at a color that does not work.',
    hint: 'Point traffic at a healthy color now: `npx nx run deploy:switch --color=<healthy color>`; check with `npx nx run deploy:status`.',
  },
  NOTHING_TO_ROLL_BACK: {
    message: 'There is nothing to roll back.',
    hint: 'A rollback returns to the color that was live before the last successful switch; use `npx nx run deploy:switch --color=<color>` to choose a color yourself.',
  },
  LIVE_COLOR_RELEASE: {
    message: 'Refusing to release to the live color: that would take live traffic down.',
    hint: 'Release to the idle color (leave out --color), smoke-test it on /preview/, then switch. To replace the live color, switch away from it first.',
  },
  RELEASE_FAILED: {
    message: 'The idle color did not become healthy on the new model.',
    hint: 'Read the log lines above, fix the model, and release again. Live traffic was not affected.',
  },
  PREVIEW_UNREACHABLE: {
    message: 'The idle color is healthy but the preview route through nginx does not reach it.',
    hint: 'Check nginx with `npx nx run deploy:status`; `npx nx run deploy:down` and `deploy:up` restart the stack.',
  },
  DOCKER_NOT_FOUND: {
    message: 'Docker (with Compose) is not available.',
    hint: 'Install Docker with the compose plugin (`docker compose`), or docker-compose, and start the Compose stack; or use the local stack (leave out --target=compose).',
  },
  COMPOSE_FAILED: {
    message: 'A docker compose command failed.',
    hint: 'Is the Compose stack up? Start it with `docker-compose -f docker-compose.yml -f docker-compose.blue.yml -f docker-compose.green.yml up --build -d` and check it with `... ps`.',
  },
  KUBECONFIG_NOT_FOUND: {
    message: 'No Kubernetes cluster to talk to: no kubeconfig, or the --context is not in it.',
    hint: 'Point KUBECONFIG at your kubeconfig (or put it in ~/.kube/config) and check `kubectl config get-contexts`; pass --context=<name> for another context.',
  },
  KUBE_FORBIDDEN: {
    message: 'The Kubernetes API refused a request for lack of permission (403); nothing more was changed.',
    hint: 'Bind the Role in deploy/kubernetes/base/rbac.yaml (ml-deployer) to your user or ServiceAccount, or run with a context that has it; check with `kubectl auth can-i <verb> <resource> -n <namespace>`.',
  },
  KUBE_NOT_FOUND: {
    message: 'An object the deployment needs is not in the cluster (404).',
    hint: 'Install the manifests with `kubectl apply -k deploy/kubernetes`, or pass the --namespace (and --context) they were installed in.',
  },
  KUBE_CONFLICT: {
    message: 'An object changed in the cluster while this command was changing it (409 Conflict); this command did not overwrite it.',
    hint: 'Someone else changed it just now (another tool, or kubectl). See what it is now with `npx nx run deploy:status --backend=kubernetes`, then run the command again if it is still needed.',
  },
  KUBE_API_FAILED: {
    message: 'A request to the Kubernetes API failed.',
    hint: 'Check that the cluster answers: `kubectl cluster-info` (with the same --context), and run the command again.',
  },
  PROMETHEUS_FAILED: {
    message: 'Prometheus did not answer as expected, so the traffic figures could not be read.',
    hint: "Check the spec's kubernetes.prometheusUrl (or BLUEGREEN_PROMETHEUS_URL) and that Prometheus answers there: `curl <url>/api/v1/query?query=up`; an in-cluster URL is asked through the API server (bind deploy/kubernetes/prometheus-access).",
  },
  CANARY_FAILED: {
    message: 'The canary failed its analysis, so all live traffic was moved back to the stable color.',
    hint: "Read the measured values above (and in the history: `deploy:status`); fix the canary color (its logs are in the state folder's logs/), release it again and start a new canary.",
  },
  CANARY_STOPPED: {
    message: 'The canary was stopped before it finished.',
    hint: 'See where the weights are with `npx nx run deploy:status`; continue with `npx nx run deploy:canary --resume`, or move everything back with `npx nx run deploy:canary --abort`.',
  },
  CANARY_NOT_RUNNING: {
    message: 'There is no canary in progress: the live route sends all traffic to one color.',
    hint: 'Start one with `npx nx run deploy:canary --color=<idle color>`; see the routes with `npx nx run deploy:status`.',
  },
  CANARY_IN_PROGRESS: {
    message: 'A canary is in progress (the live route is split between the colors); this command would cut across it.',
    hint: 'Finish it first: `npx nx run deploy:canary --resume`, `npx nx run deploy:promote` or `npx nx run deploy:canary --abort`.',
  },
  CANARY_NOT_SUPPORTED: {
    message: 'A weighted canary is not supported on this backend yet.',
    hint: 'Canaries run on the local stack, Compose, and Kubernetes with its HTTPRoute (Gateway API); without one, move all traffic at once with `deploy:switch`.',
  },
  JUDGE_FAILED: {
    message: 'The judge found the canary worse than the stable color.',
    hint: 'Read the checks above: each says what was measured (test, p-value, effect, samples) and what was allowed. Fix the canary (its logs, its model) and release it again; the judge changed nothing.',
  },
  JUDGE_INCONCLUSIVE: {
    message: 'The judge had too little data for a verdict (never a pass).',
    hint: 'Give it more data: a window with more traffic in it (a longer --since), more requests (--requests=N), a replay file the models answer (--replay=F.jsonl); or check that both colors answer at all.',
  },
  DASHBOARD_NOT_BUILT: {
    message: "The dashboard's page is not built.",
    hint: 'Run `npx nx run dashboard:build` (the deploy:dashboard target builds it for you), then start the dashboard again.',
  },
  REPLAY_FILE_INVALID: {
    message: 'The replay file can not be used.',
    hint: 'Give a JSON Lines file with one /predict body per line (`{"features": [[...], ...]}`), e.g. models/v1.0.0/replay.jsonl, or record one with `npx nx run deploy:capture --n=1000 --out=<file>`.',
  },
  DIFF_UNAVAILABLE: {
    message: "The colors' predictions can not be compared here.",
    hint: 'Prediction records, shadow traffic and replay work on the local stack (`--backend=local`); see docs/shadow-and-diff.md, "Compose and Kubernetes", for what they still lack.',
  },
  DIFF_FAILED: {
    message: 'The candidate color disagrees with the live color more than allowed.',
    hint: 'Read the report above: loosen --max-diff / --min-agreement if the difference is intended, or release a model that agrees.',
  },
  SHADOW_FAILED: {
    message: 'Shadow traffic could not be turned on or off.',
    hint: "Check the stack with `npx nx run deploy:status` and the relay's log (logs/shadow-relay.log in the state folder); `npx nx run deploy:shadow off` removes the mirror link whatever the relay does.",
  },
  UNEXPECTED: {
    message: 'Unexpected error (a bug in the deploy tool; please report it with this output):',
    hint: 'See the state of the stack with `npx nx run deploy:status`; `npx nx run deploy:down` stops it.',
  },
} as const satisfies Record<string, { message: string; hint: string }>;
export type DeployErrorCode = keyof typeof DEPLOY_ERRORS;

/** A failure of a deploy command: a catalogue code, the specifics, and what to do. */
export class DeployError extends Error {
  readonly hint: string;
  constructor(
    readonly code: DeployErrorCode,
    /** What exactly happened, appended to the catalogue message. */
    readonly detail: string,
    options: { hint?: string; data?: Record<string, unknown> } = {},
  ) {
    super(detail ? `${DEPLOY_ERRORS[code].message} ${detail}` : DEPLOY_ERRORS[code].message);
    this.name = 'DeployError';
    this.hint = options.hint ?? DEPLOY_ERRORS[code].hint;
    this.data = options.data;
  }
  /** Extra facts for `--json` output (e.g. a switch's outcome). */
  readonly data: Record<string, unknown> | undefined;
}

/** The error codes of a write refused by the file system itself (read-only, full, no permission, over quota). */
const NOT_WRITABLE_CODES: readonly string[] = ['EROFS', 'ENOSPC', 'EACCES', 'EPERM', 'EDQUOT'];

/** Whether `error` is a file system refusing a write: the user's to fix (STATE_NOT_WRITABLE), not a bug. */
export function isNotWritable(error: unknown): boolean {
  return NOT_WRITABLE_CODES.includes(String((error as NodeJS.ErrnoException | undefined)?.code));
}
