import { ksTwoSample } from '../stats/kolmogorov-smirnov';
import { populationStability } from '../stats/population-stability';
import type { Check } from './check';
import { MORE_TRAFFIC, formatP, short } from './format';
import { columnCount, columnValues, isClassifier, rowCount } from './answers';

export const OUTPUT_HINT =
  "The canary's answers differ from the stable's: compare them with `npx nx run deploy:diff`; if the change is intended, run the canary with --expect-output-change.";

/**
 * A regression's answers to live traffic, canary against stable: the two-sample
 * Kolmogorov-Smirnov test on each output, and the population stability index as the effect (a
 * significant but tiny shift is no failure). Several outputs: the smallest p-value times their
 * number (Bonferroni), the largest PSI.
 */
export const outputDistributionCheck: Check = {
  name: 'output-distribution',
  aspect: 'outputs',
  basis: 'live',
  measure({ canary, stable }, limits) {
    const outputs = limits.outputs;
    if (!outputs || isClassifier(canary.answers, stable.answers)) return null;
    const rows = { canary: rowCount(canary.answers), stable: rowCount(stable.answers) };
    const enough = rows.canary >= outputs.minOutputs && rows.stable >= outputs.minOutputs;
    const columns = Math.max(1, columnCount(canary.answers), columnCount(stable.answers));
    let d = 0;
    let smallestP = 1;
    let psi = 0;
    for (let column = 0; column < columns; column++) {
      const c = columnValues(canary.answers, column);
      const s = columnValues(stable.answers, column);
      const ks = ksTwoSample(c, s);
      d = Math.max(d, ks.d);
      smallestP = Math.min(smallestP, ks.pValue);
      psi = Math.max(psi, populationStability(c, s).psi);
    }
    const pValue = enough ? Math.min(1, smallestP * columns) : null;
    return {
      test: `two-sample Kolmogorov-Smirnov test${columns > 1 ? ` on each of ${columns} outputs (Bonferroni)` : ''}, PSI as the effect`,
      statistic: rows.canary > 0 && rows.stable > 0 ? d : null,
      pValue,
      effect: { name: 'population stability index', value: psi, limit: outputs.maxPsi, exceeded: psi > outputs.maxPsi },
      samples: { canary: rows.canary, stable: rows.stable, minimum: outputs.minOutputs },
      enough,
      observed: `${canary.color}'s ${rows.canary} answers against ${stable.color}'s ${rows.stable}: KS D ${short(d)} (p ${formatP(pValue)}), PSI ${short(psi)}`,
      expected: `distributions not significantly different with a PSI above ${outputs.maxPsi}`,
      hint: enough ? OUTPUT_HINT : MORE_TRAFFIC,
    };
  },
};
