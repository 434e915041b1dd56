import { chiSquareHomogeneity } from '../stats/chi-square';
import type { Check } from './check';
import { MORE_TRAFFIC, formatP, percent, short } from './format';
import { OUTPUT_HINT } from './output-distribution';
import { isClassifier, labelCounts, labelsOf, rowCount } from './answers';

/** A classifier's label shares on live traffic, canary against stable: Pearson's chi-square test; the largest change of one label's share as the effect. */
export const labelSharesCheck: Check = {
  name: 'label-shares',
  aspect: 'outputs',
  basis: 'live',
  measure({ canary, stable }, limits) {
    const outputs = limits.outputs;
    if (!outputs || !isClassifier(canary.answers, stable.answers)) return null;
    const labels = labelsOf(canary.answers, stable.answers);
    const c = labelCounts(canary.answers, labels);
    const s = labelCounts(stable.answers, labels);
    const totals = { canary: c.reduce((a, b) => a + b, 0), stable: s.reduce((a, b) => a + b, 0) };
    const enough = rowCount(canary.answers) >= outputs.minOutputs && rowCount(stable.answers) >= outputs.minOutputs;
    const test = chiSquareHomogeneity(c, s);
    let shift = 0;
    let moved = '';
    labels.forEach((label, i) => {
      const change = Math.abs((c[i] ?? 0) / Math.max(1, totals.canary) - (s[i] ?? 0) / Math.max(1, totals.stable));
      if (change > shift) [shift, moved] = [change, label];
    });
    const pValue = enough ? test.pValue : null;
    return {
      test: "Pearson's chi-square test of the label shares",
      statistic: test.statistic,
      pValue,
      effect: {
        name: "largest change of one label's share",
        value: shift,
        limit: outputs.maxLabelShift,
        exceeded: shift > outputs.maxLabelShift,
      },
      samples: { canary: totals.canary, stable: totals.stable, minimum: outputs.minOutputs },
      enough,
      observed: `chi-square ${short(test.statistic)} (df ${test.df}, p ${formatP(pValue)}); ${moved ? `"${moved}" moved ${percent(shift)}` : 'no label moved'}`,
      expected: `label shares not significantly different with one moving more than ${percent(outputs.maxLabelShift)}`,
      hint: enough ? OUTPUT_HINT : MORE_TRAFFIC,
    };
  },
};
