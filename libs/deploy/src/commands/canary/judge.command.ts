import { z } from 'zod';
import { DeployError } from '../../errors';
import { dropUndefined } from '../../util/drop-undefined';
import { defineCommand } from '../command';
import { ColorValue, flagValue, switchFlag, textFlag } from '../flags';
import { judgeWindow } from './judge-window';

/** `10m`, `2h`, `90s` back from now, or a date and time (ISO 8601); in ms since the epoch. */
const Moment = flagValue(
  (text) => {
    const match = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(text);
    if (match) return Date.now() - Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
    const at = Date.parse(text);
    return Number.isNaN(at) ? undefined : at;
  },
  (text) => `{flag} must be a time such as 2026-12-07T10:00:00Z, or a duration back from now such as 10m or 2h, not "${text}"`,
);

export const judgeDescriptor = defineCommand({
  name: 'judge',
  summary:
    'the canary judge alone on a window that already happened (nginx\'s log, the colors\' kept records): "would it have passed?";\n' +
    'reads only; exit 1 unless the window passes',
  flags: z.object({
    since: textFlag(Moment, { value: '10m|TIME' }),
    until: textFlag(Moment.optional(), { value: 'TIME' }),
    color: textFlag(ColorValue.optional(), { value: 'C' }),
    expectOutputChange: switchFlag(),
  }),
  options: (flags) => ({
    since: flags.since,
    until: flags.until ?? Date.now(),
    expectOutputChange: flags.expectOutputChange,
    ...dropUndefined({ canary: flags.color }),
  }),
  run: (context, options, env) => judgeWindow(context, env.spec(), options),
  verdict: (result) =>
    result.judgement.verdict === 'pass'
      ? { ok: true }
      : {
          ok: false,
          error: new DeployError(
            'JUDGE_NOT_PASSED',
            `the window would ${result.judgement.verdict === 'fail' ? 'have failed' : 'have been inconclusive'}: ${result.judgement.reasons.join('; ')}.`,
          ),
        },
  report: true,
});
