import { z } from 'zod';
import { defineCommandLine } from '../commands/command';
import { Port, flagValue, switchFlag, textFlag } from '../commands/flags';

/** Loopback only, on Argo Rollouts' dashboard port, unless told otherwise. */
const DASHBOARD_HOST = '127.0.0.1';
const DASHBOARD_PORT = 3100;

const Host = flagValue(
  (text) => (/^[\w.:-]+$/.test(text) ? text : undefined),
  (text) => `{flag} must be a host name or an IP address, not "${text}"`,
);

/** Whether an address is this machine's loopback (127.0.0.0/8, ::1, localhost): nothing else can reach it. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `deploy dashboard`: served by the CLI itself until stopped (cli/dashboard.ts), not a command on a deployment. */
export const dashboardCommandLine = defineCommandLine({
  name: 'dashboard',
  summary:
    'the deployment in the browser: both colors, live charts, the history, and the switch, rollback and\n' +
    'release buttons (the same commands); prints a URL with its token',
  flags: z
    .object({
      host: textFlag(Host.default(DASHBOARD_HOST), { value: 'H', env: 'BLUEGREEN_DASHBOARD_HOST' }),
      port: textFlag(Port.default(DASHBOARD_PORT), { value: 'N', env: 'BLUEGREEN_DASHBOARD_PORT' }),
      /** Serve beyond loopback on purpose: plain HTTP, so the token and every action travel in clear. */
      allowRemote: switchFlag(),
      readOnly: switchFlag(),
    })
    .superRefine((flags, context) => {
      if (!isLoopback(flags.host) && !flags.allowRemote)
        context.addIssue({
          code: 'custom',
          message:
            `--host=${flags.host} serves the dashboard beyond this machine over plain HTTP: its token and every action travel in clear. ` +
            'Prefer the loopback default with an SSH tunnel (ssh -L 3100:127.0.0.1:3100 <server>); add --allow-remote to serve there anyway',
        });
    }),
  options: (flags) => flags,
});
