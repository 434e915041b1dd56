import { ActionRequests } from '@mlbg/contract';
import { z } from 'zod';
import { defineCommand } from '../command';
import { canaryCommand } from './canary';
import { canaryVerdict } from './canary.command';
import { canarySettings } from './canary-settings';

export const promoteDescriptor = defineCommand({
  name: 'promote',
  summary: 'finish the canary now: all live traffic to the canary color (the remaining steps are skipped)',
  flags: z.object({}),
  options: () => ({}),
  preflight: {},
  run: (context, _options, env) =>
    canaryCommand(context, { kind: 'promote' }, canarySettings(env.spec(), env.workspaceRoot, {}), env.signals()),
  verdict: canaryVerdict,
  actions: { promote: { body: ActionRequests.promote, options: () => ({}) } },
});
