import { z } from 'zod';
import { DeployError } from '../../errors';
import { defineCommand } from '../command';
import { DIFF_FLAGS, withDiffFlags } from '../flags';
import { diffColors } from './diff';
import { diffSettingsWith } from './diff-settings';

export const diffDescriptor = defineCommand({
  name: 'diff',
  summary: "the idle color's predictions against the live color's on the same requests (shadow records, or --replay F)",
  flags: z.object(DIFF_FLAGS),
  options: (flags) => ({ diff: withDiffFlags(flags).diff }),
  run: (context, { diff: flags }, env) => {
    const { criteria, replayFile } = diffSettingsWith(env.spec(), flags, env);
    // Judged (exit 1 when it fails) only when a flag asks for a limit.
    const judged = flags.maxDiff !== undefined || flags.minAgreement !== undefined || flags.minPairs !== undefined;
    return diffColors(context, {
      tolerance: criteria.tolerance,
      ...(judged ? { criteria } : {}),
      ...(flags.replay && replayFile ? { replayFile } : {}),
    });
  },
  verdict: (result) =>
    result.problems.length === 0 ? { ok: true } : { ok: false, error: new DeployError('DIFF_FAILED', `${result.problems.join('; ')}.`) },
  report: true,
});
