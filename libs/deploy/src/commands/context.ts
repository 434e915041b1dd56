import type { Backend } from '../backends/backend';
import type { Clock, TestPause } from '../effects/deps';
import { type Lock, type LockFiles, fileLock } from '../effects/lock';
import type { Gate, ReplicaQuorum, SwitchTiming } from '../gates/gate';
import { HISTORY_SCHEMA_VERSION, type HistoryInput } from '../history/history';
import { type HistoryStore, fileHistory } from '../history/store';
import { type JsonFile, jsonFile } from '../effects/json-file';
import { join } from 'node:path';
import { CanaryRun } from './canary/canary-progress-file';
import { LastDiff } from './shadow/last-diff';

/** The lock, the history, the running canary's progress and the latest diff report of a deployment kept in a local state folder (local stack, Compose). */
export function stateFolderStores(files: LockFiles & { readonly historyFile: string }): {
  lock: Lock;
  history: HistoryStore;
  canaryRun: JsonFile<CanaryRun>;
  lastDiff: JsonFile<LastDiff>;
} {
  return {
    lock: fileLock(files),
    history: fileHistory(files.historyFile),
    canaryRun: jsonFile(join(files.stateDir, 'canary.json'), CanaryRun),
    lastDiff: jsonFile(join(files.stateDir, 'last-diff.json'), LastDiff),
  };
}

/** What every command runs with: one backend, chosen once by the CLI. */
export interface CommandContext {
  readonly backend: Backend;
  /** Two commands never change one deployment at once. */
  readonly lock: Lock;
  /** Every action, with its gate results. */
  readonly history: HistoryStore;
  readonly clock: Clock;
  readonly userName: string;
  /** Long work reports here (stderr under --json). */
  readonly progress: (line: string) => void;
  /** The preflight of a switch or rollback, in order (the spec's `switch.preflight`). */
  readonly preflight: readonly Gate[];
  /** How many of the target's replicas must pass the preflight (the spec's `replicas.mustPass`; default all). */
  readonly replicaQuorum?: ReplicaQuorum;
  readonly timing?: SwitchTiming;
  /** Where a running canary shows its progress to `deploy:status` (absent: nowhere). */
  readonly canaryRun?: JsonFile<CanaryRun>;
  /** Where the latest prediction-diff report is kept for the dashboard (absent: not kept). */
  readonly lastDiff?: JsonFile<LastDiff>;
  /** TEST HOOK (BLUEGREEN_TEST_PAUSE_AT): waits forever at the named point, so a test can kill the command there. */
  readonly testPause?: TestPause;
}

type HistoryStamp = Pick<HistoryInput, 'schemaVersion' | 'time' | 'user' | 'backend' | 'durationMs'>;

/** What every history line says besides its command's own fields: format, when, who, where, how long. */
export function historyStamp(context: Pick<CommandContext, 'clock' | 'userName' | 'backend'>, startedAt: number): HistoryStamp {
  return {
    schemaVersion: HISTORY_SCHEMA_VERSION,
    time: new Date(startedAt).toISOString(),
    user: context.userName,
    backend: context.backend.kind,
    durationMs: Math.round(context.clock.now() - startedAt),
  };
}

/** The specifics of a failure, without the catalogue's sentence when it is a DeployError. */
export function reasonOf(error: unknown): string {
  if (error && typeof error === 'object' && 'detail' in error && typeof error.detail === 'string') return error.detail;
  return error instanceof Error ? error.message : String(error);
}
