import { z } from 'zod';
import { dropUndefined } from '../../util/drop-undefined';
import { defineCommand } from '../command';
import { TIMEOUT_FLAG, switchFlag } from '../flags';
import { downStack } from './stack';
import { refuseCluster } from './up.command';

export const downDescriptor = defineCommand({
  name: 'down',
  summary: 'stop exactly what up started; idempotent',
  flags: z.object({ reset: switchFlag(), ...TIMEOUT_FLAG }),
  options: (flags) => ({ reset: flags.reset, ...dropUndefined({ timeoutMs: flags.timeout }) }),
  refuseOn: refuseCluster('down'),
  run: (context, options) => downStack(context, options),
});
