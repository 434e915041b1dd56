import { LOG_LEVELS } from '@mlbg/contract';
import { z } from 'zod';
import { dropUndefined } from '../../util/drop-undefined';
import { defineCommand } from '../command';
import { Port, TIMEOUT_FLAG, flagValue, textFlag } from '../flags';
import { upStack } from './stack';

const LogLevel = flagValue(
  (text) => ((LOG_LEVELS as readonly string[]).includes(text) ? text : undefined),
  (text) => `{flag} must be one of ${LOG_LEVELS.join(', ')}, not "${text}"`,
);

/** `up` and `down` start and stop processes or containers; a cluster is installed with kubectl. */
export function refuseCluster(name: 'up' | 'down') {
  return (backend: string) =>
    backend === 'kubernetes'
      ? `${name} does not manage a cluster: install with \`kubectl apply -k deploy/kubernetes\`, remove with \`kubectl delete -k deploy/kubernetes\``
      : undefined;
}

export const upDescriptor = defineCommand({
  name: 'up',
  summary: 'start blue, green and nginx; print the URLs',
  flags: z.object({
    routerPort: textFlag(Port.optional(), { value: 'N', env: 'BLUEGREEN_ROUTER_PORT' }),
    bluePort: textFlag(Port.optional(), { value: 'N', env: 'BLUEGREEN_BLUE_PORT' }),
    greenPort: textFlag(Port.optional(), { value: 'N', env: 'BLUEGREEN_GREEN_PORT' }),
    blueModel: textFlag(z.string().optional(), { value: 'P', env: 'BLUEGREEN_BLUE_MODEL' }),
    greenModel: textFlag(z.string().optional(), { value: 'P', env: 'BLUEGREEN_GREEN_MODEL' }),
    logLevel: textFlag(LogLevel.optional(), { value: 'L', env: 'BLUEGREEN_LOG_LEVEL' }),
    ...TIMEOUT_FLAG,
  }),
  options: (flags) => ({
    ports: dropUndefined({ routerPort: flags.routerPort, bluePort: flags.bluePort, greenPort: flags.greenPort }),
    models: dropUndefined({ blue: flags.blueModel, green: flags.greenModel }),
    ...dropUndefined({ logLevel: flags.logLevel, timeoutMs: flags.timeout }),
  }),
  refuseOn: refuseCluster('up'),
  run: (context, options) => upStack(context, options),
});
