import { mean } from '../stats/order';
import { welchTest } from '../stats/welch';
import type { Check } from './check';
import { MORE_TRAFFIC, formatP, short } from './format';
import { OUTPUT_HINT } from './output-distribution';
import { columnCount, columnValues, isClassifier, rowCount } from './answers';

/**
 * A classifier's probabilities on live traffic, canary against stable: each class's mean
 * probability by Welch's t-test (the smallest p-value times the number of classes: Bonferroni);
 * the largest shift of a class's mean as the effect.
 */
export const classProbabilitiesCheck: Check = {
  name: 'class-probabilities',
  aspect: 'outputs',
  basis: 'live',
  measure({ canary, stable }, limits) {
    const outputs = limits.outputs;
    if (!outputs || !isClassifier(canary.answers, stable.answers)) return null;
    const rows = { canary: rowCount(canary.answers), stable: rowCount(stable.answers) };
    const enough = rows.canary >= outputs.minOutputs && rows.stable >= outputs.minOutputs;
    const classes = Math.max(columnCount(canary.answers), columnCount(stable.answers));
    let smallest = { pValue: 1, statistic: 0 };
    let shift = 0;
    let shifted = -1;
    for (let column = 0; column < classes; column++) {
      const c = columnValues(canary.answers, column);
      const s = columnValues(stable.answers, column);
      const test = welchTest(c, s);
      if (test.pValue < smallest.pValue) smallest = test;
      const change = Math.abs((mean(c) ?? 0) - (mean(s) ?? 0));
      if (change > shift) [shift, shifted] = [change, column];
    }
    const pValue = enough && classes > 0 ? Math.min(1, smallest.pValue * classes) : null;
    return {
      test: `Welch's t-test on each of ${classes} class probabilities (Bonferroni)`,
      statistic: enough && Number.isFinite(smallest.statistic) ? smallest.statistic : null,
      pValue,
      effect: {
        name: "largest shift of a class's mean probability",
        value: shift,
        limit: outputs.maxProbabilityShift,
        exceeded: shift > outputs.maxProbabilityShift,
      },
      samples: { canary: rows.canary, stable: rows.stable, minimum: outputs.minOutputs },
      enough,
      observed: `class ${shifted < 0 ? '-' : shifted}'s mean probability moved ${short(shift)} (p ${formatP(pValue)})`,
      expected: `no class's mean probability significantly moved by more than ${outputs.maxProbabilityShift}`,
      hint: enough ? OUTPUT_HINT : MORE_TRAFFIC,
    };
  },
};
