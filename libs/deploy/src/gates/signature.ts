import { type ModelSignature, describeSignatureDifferences } from '@mlbg/contract';
import { judgeHealth } from '../effects/service-client';
import { type Gate, failed, passed } from './gate';

/**
 * The target takes the same inputs and gives the same kind of answer as the live color (task,
 * inputs, outputs, classes), so a switch can never break the clients. Each side's signature comes
 * from its /health, or as recorded when it was started; a color too old to report a signature is
 * compared by its feature count.
 */
export const signatureGate: Gate = {
  name: 'signature',
  async run({ from, to, colors, facts }) {
    const target = facts.target;
    if (!target)
      return failed(
        this.name,
        `${to}'s signature is not known (its /health was not checked).`,
        'the same input signature as the live color',
        'Put health-streak before signature in the preflight.',
      );
    let live: { featureCount?: number; signature?: ModelSignature; source: string } = { source: `live ${from}` };
    try {
      const check = judgeHealth(await colors.health(from));
      if (check.health) {
        facts.live = check.health;
        live = {
          featureCount: check.health.feature_count,
          ...(check.health.signature ? { signature: check.health.signature } : {}),
          source: `live ${from}`,
        };
      }
    } catch {
      // it does not answer; fall back to what was recorded
    }
    if (live.featureCount === undefined) {
      const recorded = colors.recorded(from);
      live = {
        ...(recorded?.featureCount === undefined ? {} : { featureCount: recorded.featureCount }),
        ...(recorded?.signature ? { signature: recorded.signature } : {}),
        source: `live ${from} (as recorded; it does not answer now)`,
      };
    }
    if (live.featureCount === undefined) {
      return failed(
        this.name,
        `the live color ${from} does not answer /health and no input signature is recorded for it, so ${to}'s can not be compared.`,
        `${to}'s input signature equal to live ${from}'s`,
        `Start ${from} again, or check it with deploy:status.`,
      );
    }
    if (live.signature && target.signature) {
      const expected = `the signature of ${live.source}: ${describe(live.signature)}`;
      const differences = describeSignatureDifferences(live.signature, target.signature);
      if (differences.length > 0) {
        return failed(
          this.name,
          `input signature differs: ${to} (${target.version}) against ${live.source}: ${differences.join('; ')}; switching would break every client.`,
          expected,
          `Release a model with the live model's signature to ${to} (GET /model on each color shows it).`,
        );
      }
      return passed(this.name, `signature: ${describe(target.signature)}, same as ${from}`, expected);
    }
    const expected = `${live.featureCount} feature(s) per row, as ${live.source}`;
    if (live.featureCount !== target.feature_count) {
      return failed(
        this.name,
        `input signature differs: ${to} (${target.version}) takes ${target.feature_count} feature(s) per row, ${live.source} takes ${live.featureCount}; switching would break every client.`,
        expected,
        `Release a model with ${live.featureCount} feature(s) per row to ${to}.`,
      );
    }
    return passed(this.name, `input signature: ${live.featureCount} feature(s) per row, same as ${from}`, expected);
  },
};

/** `regression, inputs features FP32 [-1,1], outputs ...` in one line. */
function describe(signature: ModelSignature): string {
  const tensors = (list: ModelSignature['inputs']) =>
    list.map((tensor) => `${tensor.name} ${tensor.datatype} [${tensor.shape.join(',')}]`).join(', ');
  return `${signature.task}, inputs ${tensors(signature.inputs)}, outputs ${tensors(signature.outputs)}${signature.classes ? `, classes [${signature.classes.join(', ')}]` : ''}`;
}
