import { z } from 'zod';
import { defineCommand } from '../command';
import { stackStatus } from './stack';

export const statusDescriptor = defineCommand({
  name: 'status',
  summary: "the routes, each color's health, what nginx serves, the last switch",
  flags: z.object({}),
  options: () => ({}),
  run: (context) => stackStatus(context),
  // Not healthy: exit 1, with the report that says what is wrong.
  verdict: (result) => ({ ok: result.healthy }),
  report: true,
});
