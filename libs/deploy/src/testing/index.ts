/**
 * `@mlbg/deploy/testing`: what tests and benchmarks outside this library use to drive a stack.
 * Kept apart from `@mlbg/deploy` so test helpers never become part of the tool's API.
 */
/** Free loopback ports, for a stack or a server beside another one. */
export { freePort, freePorts } from '../effects/real-deps';
/** Keep-alive load that counts every answer, with its time and color (the fault tests and the bench's outage run). */
export { failureKinds, keepAliveLoad, summarize } from './keepalive-load';
export type { LoadReport, Seen } from './keepalive-load';
/** Seeded synthetic canary intervals for the judge (its simulation spec and the bench's judge case). */
export { modelOfCard, seededRandom, simulatedColor, simulatedWindow } from './judge-traffic';
export type { ModelCard, ModelFunction, SampleSize, Traffic } from './judge-traffic';
/** The longest a switch on Compose may take by the tool's own deadlines (the Compose suite's limit on a switch). */
export { composeSwitchCommands, composeSwitchDeadlineMs } from './compose-switch-deadline';
/** The deployment spec file, validated (the Compose suite reads the workspace's). */
export { loadDeploymentSpec } from '../spec/load';
/** The judge's analysis lines out of a canary's progress output. */
export { analysisLines } from './canary-output';
/** The CLI's dashboard as its own process, and its `/api/state` (the browser suite and the Compose suite). */
export { startDashboardProcess } from './dashboard-process';
export type { DashboardProcess } from './dashboard-process';
/** One real local stack on free loopback ports (the Compose suite compares its diff report with Compose's). */
export { StackHarness } from './stack-harness';
/** The longest a canary, a release and a status on Compose may take by the tool's own deadlines (the Compose suite's limits on them, and on the dashboard showing a change). */
export {
  composeCanaryDeadlineMs,
  composeDashboardShowsWithinMs,
  composeReleaseDeadlineMs,
  composeStatusDeadlineMs,
  intervalsToPass,
  intervalsToRollBack,
} from './compose-deadlines';
export type { ComposeCanaryRun } from './compose-deadlines';
