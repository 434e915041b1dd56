import { ROUTE_MOVE_BOUND_MS } from '@mlbg/contract';
import { COMPOSE_COMMAND_TIMEOUT_MS } from '../backends/compose/compose-backend';
import { KEPT_CONNECTION_GRACE_MS } from '../commands/switch/verify-route';
import { DEFAULT_HTTP_TIMEOUT_MS } from '../effects/real-deps';
import { DEFAULT_SWITCH_TIMING, type SwitchTiming } from '../gates';
import { DEFAULT_PREFLIGHT_GATES, type DeploymentSpec } from '../spec/deployment-spec';

/**
 * The engine commands one switch (or rollback) runs on Compose with the default preflight gates:
 * finding the compose command (at most 2: `docker compose version`, then `docker-compose version`),
 * reading the route links (1: one exec prints every slot link and `preview`), on each replica of the target its health streak, one
 * prediction and the live color's health (the signature gate), and the flip (1). compose-backend.spec.ts
 * counts those of a switch and a rollback through the CLI.
 */
export function composeSwitchCommands(spec: DeploymentSpec, timing: SwitchTiming = DEFAULT_SWITCH_TIMING): number {
  if (spec.gates.preflight.join() !== DEFAULT_PREFLIGHT_GATES.join())
    throw new Error(
      `composeSwitchCommands counts the default preflight gates (${DEFAULT_PREFLIGHT_GATES.join(', ')}), not ${spec.gates.preflight.join(', ')}`,
    );
  return 2 + 1 + spec.replicas.perColor * (timing.healthChecks + 2) + 1;
}

/**
 * The longest one switch on Compose may take by the tool's own deadlines: each engine command is
 * killed after COMPOSE_COMMAND_TIMEOUT_MS; the health streak pauses between its checks; the check
 * through nginx accepts the previous color for KEPT_CONNECTION_GRACE_MS, then needs at most
 * verifyChecks more answers (and the one under way when the grace ended), each given up after the
 * HTTP client's timeout; then the switch waits ROUTE_MOVE_BOUND_MS for the connections nginx kept
 * to the previous color. A test's limit on a switch: a machine busy with other work must not fail
 * a switch the tool itself still allows. (Starting the CLI's process is bounded by no deadline: it is
 * seconds, against minutes of engine deadlines.)
 */
export function composeSwitchDeadlineMs(spec: DeploymentSpec, timing: SwitchTiming = DEFAULT_SWITCH_TIMING): number {
  const engine = composeSwitchCommands(spec, timing) * COMPOSE_COMMAND_TIMEOUT_MS;
  const healthPauses = (timing.healthChecks - 1) * timing.healthIntervalMs;
  const verify = KEPT_CONNECTION_GRACE_MS + (timing.verifyChecks + 1) * (DEFAULT_HTTP_TIMEOUT_MS + timing.verifyIntervalMs);
  return engine + healthPauses + verify + ROUTE_MOVE_BOUND_MS;
}
