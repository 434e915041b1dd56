import { otherColor } from '@mlbg/contract';
import { readReplayFile } from '../../effects/replay-file';
import { type DiffCriteria, type DiffResult, type DiffTolerance, comparePredictions, diffProblems } from '../../gates';
import { mainTarget } from '../../routing/routes';
import type { CommandContext } from '../context';

export interface DiffRequest {
  readonly tolerance: DiffTolerance;
  /** Judge the report too (exit 1 when it fails): given when a flag asks for a limit. */
  readonly criteria?: DiffCriteria;
  /** Absolute path of a replay file; absent = the shadow traffic's records. */
  readonly replayFile?: string;
  /** What the kept report says made it (default `deploy diff`). */
  readonly by?: string;
}

export type { DiffResult };

/**
 * `deploy:diff`: the idle color's answers against the live color's on the same requests, either
 * the shadow traffic's records (joined by request id) or a replay file sent to both directly.
 * Reads only: no lock, no route moves, no history; the report is kept as the latest one (context.lastDiff).
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
    notes.push(
      `No mirrored requests to compare yet: turn shadow traffic on with \`npx nx run deploy:shadow on\` and send live traffic, or replay a file (--replay=models/v1.0.0/replay.jsonl).`,
    );
  }
  const result: DiffResult = {
    report,
    problems: request.criteria ? diffProblems(report, request.criteria) : [],
    judged: request.criteria !== undefined,
    notes,
  };
  keepDiff(context, request.by ?? 'deploy diff', result);
  return result;
}

/** Keeps `result` as the latest report (the dashboard shows it); a state folder that can not be written costs only that. */
export function keepDiff(
  context: Pick<CommandContext, 'lastDiff' | 'clock' | 'userName' | 'progress'>,
  by: string,
  result: DiffResult,
): void {
  try {
    context.lastDiff?.write({
      time: new Date(context.clock.now()).toISOString(),
      by,
      user: context.userName,
      result: { ...result, problems: [...result.problems], notes: [...result.notes] },
    });
  } catch (error) {
    context.progress(`the diff report was not kept for the dashboard: ${(error as Error).message}`);
  }
}
