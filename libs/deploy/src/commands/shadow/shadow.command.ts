import { ActionRequests } from '@mlbg/contract';
import { z } from 'zod';
import { dropUndefined } from '../../util/drop-undefined';
import { defineCommand } from '../command';
import { decimal, textFlag, wholeNumber } from '../flags';
import { shadowOnAction, shadowTraffic } from './shadow';

const Action = z.enum(['on', 'off', 'status'], { error: (issue) => `say "on", "off" or "status", not "${String(issue.input)}"` });

export const shadowDescriptor = defineCommand({
  name: 'shadow',
  summary:
    "on: nginx mirrors a share (--percent, --queue-size: the relay's) of live /predict (and V2 infer) to the idle color\n" +
    'through a relay that answers at once; no reload. off: stops it. status (the default): what the relay counted',
  flags: z
    .object({
      action: textFlag(Action.default('status'), { value: 'on|off|status', argument: { name: 'the argument', onlyArgument: true } }),
      percent: textFlag(decimal({ min: 0, max: 100 }).optional(), { value: 'N' }),
      queueSize: textFlag(wholeNumber(1).optional(), { value: 'N' }),
    })
    .superRefine((flags, context) => {
      if (flags.action !== 'on' && (flags.percent !== undefined || flags.queueSize !== undefined))
        context.addIssue({ code: 'custom', message: '--percent and --queue-size go with "on"' });
    }),
  options: (flags) => ({ action: flags.action, ...dropUndefined({ percent: flags.percent, queueSize: flags.queueSize }) }),
  run: (context, options, env) =>
    shadowTraffic(
      context,
      options.action === 'on'
        ? shadowOnAction(env.spec(), dropUndefined({ percent: options.percent, queueSize: options.queueSize }))
        : { kind: options.action },
    ),
  actions: {
    shadow: {
      body: ActionRequests.shadow,
      options: (body) => ({ action: body.on ? ('on' as const) : ('off' as const), ...dropUndefined({ percent: body.percent }) }),
    },
  },
});
