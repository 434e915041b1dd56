import { judgeHealth } from '../effects/service-client';
import { type Gate, failed, passed } from './gate';

/**
 * The target takes the same input as the live color, so a switch can never break the clients.
 * The live color's signature comes from itself, or as recorded when it was started.
 */
export const signatureGate: Gate = {
  name: 'signature',
  async run({ from, to, colors, facts }) {
    const target = facts.target;
    if (!target) return failed(this.name, `${to}'s signature is not known (its /health was not checked).`, 'the same input signature as the live color', 'Put health-streak before signature in the preflight.');
    let liveFeatures: number | undefined;
    let liveSource = `live ${from}`;
    try {
      const check = judgeHealth(await colors.health(from));
      if (check.health) {
        facts.live = check.health;
        liveFeatures = check.health.feature_count;
      }
    } catch {
      // it does not answer; fall back to what was recorded
    }
    if (liveFeatures === undefined) {
      liveFeatures = colors.recorded(from)?.featureCount;
      liveSource = `live ${from} (as recorded; it does not answer now)`;
    }
    if (liveFeatures === undefined) {
      return failed(
        this.name,
        `the live color ${from} does not answer /health and no input signature is recorded for it, so ${to}'s can not be compared.`,
        `${to}'s input signature equal to live ${from}'s`,
        `Start ${from} again, or check it with deploy:status.`,
      );
    }
    const expected = `${liveFeatures} feature(s) per row, as ${liveSource}`;
    if (liveFeatures !== target.feature_count) {
      return failed(
        this.name,
        `input signature differs: ${to} (${target.version}) takes ${target.feature_count} feature(s) per row, ${liveSource} takes ${liveFeatures}; switching would break every client.`,
        expected,
        `Release a model with ${liveFeatures} feature(s) per row to ${to}.`,
      );
    }
    return passed(this.name, `input signature: ${liveFeatures} feature(s) per row, same as ${from}`, expected);
  },
};
