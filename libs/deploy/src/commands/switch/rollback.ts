import { skippedLinesNote } from '../../history/history';
import { planRollback } from './switch-plan';
import { mainTarget } from '../../routing/routes';
import { DeployError } from '../../errors';
import type { CommandContext } from '../context';
import { settleInterruptedSwitch } from './reconcile';
import { type SwitchResult, moveAndRecord } from './switch';

/**
 * `deploy:rollback`: switches back to the color that was live before the last successful switch,
 * with the same gates, insisting it still runs the version it ran then.
 * @throws DeployError NOTHING_TO_ROLL_BACK when the history has no successful switch
 */
export function rollbackTraffic(context: CommandContext): Promise<SwitchResult> {
  return context.lock.hold({ command: 'rollback', user: context.userName }, async () => {
    await settleInterruptedSwitch(context);
    const routes = await context.backend.readRoutes();
    const live = mainTarget(routes.live);
    const history = await context.history.read();
    const skipped = skippedLinesNote(history);
    if (skipped) context.progress(`Note: ${skipped}`);
    const plan = planRollback(history.entries, context.backend.kind, live);
    switch (plan.kind) {
      case 'nothing':
        throw new DeployError('NOTHING_TO_ROLL_BACK', `${capitalize(plan.reason)} (${context.history.where}); ${live} is live.`);
      case 'noop':
        return {
          kind: 'noop',
          color: live,
          version: context.backend.colors.recorded(live)?.version ?? null,
          note: `the last switch (${plan.basedOn.time}) went ${plan.basedOn.from} -> ${plan.basedOn.to}, and ${live} is live again already`,
        };
      case 'switch':
        return moveAndRecord(
          context,
          'rollback',
          routes,
          plan.to,
          plan.expectVersion
            ? {
                version: plan.expectVersion,
                why: `${plan.to} ran it before the last switch (${plan.basedOn.time}) and a rollback returns to it; it was released again since, so use deploy:switch --color=${plan.to} if you mean to go to what it runs now`,
              }
            : undefined,
        );
      default: {
        const unreachable: never = plan;
        return unreachable;
      }
    }
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
