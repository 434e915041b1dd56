import { resolve } from 'node:path';
import { type PredictionDiffSettings, predictionDiffSettings } from '../../gates';
import type { DeploymentSpec } from '../../spec/deployment-spec';
import type { DiffFlags } from '../flags';

/** The spec's predictionDiff section with the flags over it; a replay file given as a flag is relative to `cwd`. */
export function diffSettingsWith(
  spec: DeploymentSpec,
  flags: DiffFlags | undefined,
  where: { readonly workspaceRoot: string; readonly cwd: string },
): PredictionDiffSettings {
  const base = predictionDiffSettings(spec.predictionDiff, where.workspaceRoot);
  if (!flags) return base;
  const { tolerance } = base.criteria;
  return {
    criteria: {
      tolerance: { absolute: flags.maxDiff ?? tolerance.absolute, relative: flags.relTolerance ?? tolerance.relative },
      minAgreement: flags.minAgreement ?? base.criteria.minAgreement,
      minPairs: flags.minPairs ?? base.criteria.minPairs,
    },
    ...(flags.replay ? { replayFile: resolve(where.cwd, flags.replay) } : base.replayFile ? { replayFile: base.replayFile } : {}),
  };
}
