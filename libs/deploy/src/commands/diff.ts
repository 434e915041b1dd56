import { otherColor } from '@mlbg/contract';
import { readReplayFile } from '../effects/replay-file';
import { type DiffCriteria, type DiffReport, type DiffTolerance, comparePredictions, diffProblems } from '../gates';
import { mainTarget } from '../routing/routes';
import type { CommandContext } from './context';

export interface DiffRequest {
  readonly tolerance: DiffTolerance;
  /** Judge the report too (exit 1 when it fails): given when a flag asks for a limit. */
  readonly criteria?: DiffCriteria;
  /** Absolute path of a replay file; absent = the shadow traffic's records. */
  readonly replayFile?: string;
}

export interface DiffResult {
  readonly report: DiffReport;
  /** Why the report fails `criteria` (empty when it passes or none was asked). */
  readonly problems: readonly string[];
  readonly judged: boolean;
  readonly notes: readonly string[];
}

/**
 * `deploy:diff`: the idle color's answers against the live color's on the same requests, either
 * the shadow traffic's records (joined by request id) or a replay file sent to both directly.
 * Reads only: no lock, no route moves, no history.
 */
export async function diffColors(context: CommandContext, request: DiffRequest): Promise<DiffResult> {
  const replay = request.replayFile ? readReplayFile(request.replayFile) : undefined;
  const live = mainTarget((await context.backend.readRoutes()).live);
  const candidate = otherColor(live);
  if (replay) context.progress(`replaying ${replay.length} bodies from ${request.replayFile} to ${live} and ${candidate}`);
  const { report, collected } = await comparePredictions(
    { colors: context.backend.colors, from: live, to: candidate },
    { tolerance: request.tolerance, progress: context.progress, ...(replay ? { replay } : {}) },
  );
  const notes = [...collected.problems];
  if (!replay && report.pairs === 0) {
    notes.push(`No mirrored requests to compare yet: turn shadow traffic on with \`npx nx run deploy:shadow on\` and send live traffic, or replay a file (--replay=models/v1.0.0/replay.jsonl).`);
  }
  return { report, problems: request.criteria ? diffProblems(report, request.criteria) : [], judged: request.criteria !== undefined, notes };
}
