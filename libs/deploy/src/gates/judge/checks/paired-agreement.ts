import { diffReport } from '../../prediction-diff-report';
import { binomialP, wilsonLowerBound } from '../stats/binomial';
import type { Check } from './check';
import { formatP, percent } from './format';
import { OUTPUT_HINT } from './output-distribution';

/**
 * Both colors' answers to the same requests (shadow copies, replays), request by request: the
 * share within the tolerance of `deploy:diff`, tested against the minimum agreement (the exact
 * binomial test, one-sided: significantly below it fails), with its Wilson lower bound.
 */
export const pairedAgreementCheck: Check = {
  name: 'paired-agreement',
  aspect: 'outputs',
  basis: 'paired',
  measure({ canary, stable, pairs }, limits) {
    const outputs = limits.outputs;
    if (!outputs || pairs.length === 0) return null;
    const { tolerance, minAgreement, minPairs } = outputs.paired;
    // The pairs' "live" side is the stable color's answer, the "candidate" the canary's.
    const report = diffReport(pairs, {
      source: 'shadow',
      live: { color: stable.color, version: null },
      candidate: { color: canary.color, version: null },
      tolerance,
    });
    const share = report.withinShare;
    const confidence = 1 - limits.falseAlarmRate;
    const lower = wilsonLowerBound(report.withinTolerance, report.pairs, confidence);
    const pValue = binomialP(report.withinTolerance, report.pairs, minAgreement, 'less');
    return {
      test: 'exact binomial test, one-sided (agreement below the minimum)',
      statistic: share,
      pValue,
      effect: {
        name: 'share of pairs within tolerance',
        value: share,
        limit: minAgreement,
        exceeded: share !== null && share < minAgreement,
      },
      samples: { canary: report.pairs, stable: report.pairs, minimum: minPairs },
      enough: report.pairs >= minPairs,
      observed: `${report.withinTolerance} of ${report.pairs} pairs within |diff| <= ${tolerance.absolute} + ${tolerance.relative} x |stable| (${percent(share)}; at least ${percent(lower)} with ${percent(confidence)} confidence, Wilson; p ${formatP(pValue)})`,
      expected: `not significantly below ${percent(minAgreement)} agreement`,
      hint: OUTPUT_HINT,
    };
  },
};
