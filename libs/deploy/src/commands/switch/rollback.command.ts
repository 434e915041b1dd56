import { ActionRequests } from '@mlbg/contract';
import { z } from 'zod';
import { defineCommand } from '../command';
import { rollbackTraffic } from './rollback';
import { moveVerdict } from './switch.command';

export const rollbackDescriptor = defineCommand({
  name: 'rollback',
  summary: 'switch back to the color that was live before the last successful switch (or a promoted canary)',
  flags: z.object({}),
  options: () => ({}),
  preflight: {},
  run: (context) => rollbackTraffic(context),
  verdict: moveVerdict,
  actions: { rollback: { body: ActionRequests.rollback, options: () => ({}) } },
});
