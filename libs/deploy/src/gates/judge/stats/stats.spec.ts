import padjust from '@stdlib/stats-padjust';
import { binomialP, wilsonLowerBound } from './binomial';
import { chiSquareHomogeneity } from './chi-square';
import { fisherGreater } from './fisher';
import { kolmogorovSurvival, ksTwoSample } from './kolmogorov-smirnov';
import { mannWhitneyGreater } from './mann-whitney';
import { median } from './order';
import { populationStability } from './population-stability';
import { welchTest } from './welch';

/**
 * Each test against a value published in a textbook, a paper or the reference implementation's
 * documentation (R, scipy), so a wrong formula or a misread library argument fails here.
 */
describe('the statistics of the judge', () => {
  describe("Fisher's exact test (one-sided)", () => {
    it("gives Fisher's own tea-tasting p-value: 3 of 4 cups right, p = 17/70", () => {
      // Fisher (1935), The Design of Experiments, ch. 2: the table [[3, 1], [1, 3]].
      expect(fisherGreater({ events: 3, total: 4 }, { events: 1, total: 4 })).toBeCloseTo(17 / 70, 12);
    });

    it('agrees with scipy.stats.fisher_exact(alternative="greater") on a 7% against 0.5% table', () => {
      expect(fisherGreater({ events: 7, total: 100 }, { events: 1, total: 200 })).toBeCloseTo(0.002287277302604547, 10);
    });

    it('is 1 without events in the first group, and tiny for a crash loop against a healthy color', () => {
      expect(fisherGreater({ events: 0, total: 50 }, { events: 5, total: 50 })).toBe(1);
      expect(fisherGreater({ events: 100, total: 100 }, { events: 0, total: 2000 })).toBeLessThan(1e-12);
      // A large table, where 1 - stdlib's hypergeometric CDF would say 1 (its CDF answers 0 there).
      expect(fisherGreater({ events: 2250, total: 2250 }, { events: 0, total: 6750 })).toBeLessThan(1e-12);
    });
  });

  describe('the binomial test and the Wilson bound', () => {
    it("gives scipy's documented binom_test(3, n=15, p=0.1, alternative='greater') = 0.18406", () => {
      expect(binomialP(3, 15, 0.1, 'greater')).toBeCloseTo(0.18406106910639114, 10);
    });

    it('tests a share below a minimum: 95 of 100 against 99%', () => {
      // scipy.stats.binomtest(95, 100, 0.99, alternative='less').pvalue
      expect(binomialP(95, 100, 0.99, 'less')).toBeCloseTo(0.0034323215877545333, 10);
    });

    it('is certain at the ends of the share and without trials', () => {
      expect(binomialP(1, 10, 0, 'greater')).toBe(0);
      expect(binomialP(0, 10, 0, 'greater')).toBe(1);
      expect(binomialP(0, 0, 0.5, 'greater')).toBe(1);
    });

    it("matches Newcombe's (1998) Wilson interval for 81 of 263: lower bound 0.2553", () => {
      // Newcombe, Statistics in Medicine 17:857-872, table II: the 95% two-sided interval is 0.2553-0.3662.
      expect(wilsonLowerBound(81, 263, 0.975)).toBeCloseTo(0.2553, 4);
      expect(wilsonLowerBound(0, 0, 0.99)).toBeNull();
    });
  });

  describe('the Mann-Whitney U test (one-sided, normal approximation)', () => {
    it("gives scipy's documented example: U = 17, p = 0.0557 one-sided (0.1113 two-sided)", () => {
      // scipy.stats.mannwhitneyu docs: males [19, 22, 16, 29, 24] against females [20, 11, 17, 12], method="asymptotic".
      const result = mannWhitneyGreater([19, 22, 16, 29, 24], [20, 11, 17, 12]);
      expect(result.u).toBe(17);
      expect(result.pValue).toBeCloseTo(0.11134688653314041 / 2, 12);
    });

    it('corrects for ties like scipy', () => {
      const first = [2, 3, 4, 4, 4, 6, 7, 7, 8, 10, 11];
      const second = [1, 2, 2, 3, 3, 3, 4, 5, 5, 9];
      const result = mannWhitneyGreater(first, second);
      expect(result.u).toBe(82);
      expect(result.pValue).toBeCloseTo(0.029916060997579895, 12);
    });

    it('says nothing when every value is the same', () => {
      expect(mannWhitneyGreater([1, 1, 1], [1, 1]).pValue).toBe(1);
    });
  });

  describe('the two-sample Kolmogorov-Smirnov test', () => {
    it.each([
      // The Kolmogorov distribution's critical values (e.g. Smirnov 1948; any table of K_alpha).
      [1.224, 0.1],
      [1.358, 0.05],
      [1.48, 0.025],
      [1.628, 0.01],
      [1.731, 0.005],
      [1.949, 0.001],
    ])('P(K > %f) is %f, as the tables say', (lambda, alpha) => {
      expect(kolmogorovSurvival(lambda)).toBeCloseTo(alpha, 3);
    });

    it('is right on both sides of the switch between its two series', () => {
      // scipy.special.kolmogorov(0.5), (1.0), (1.18)
      expect(kolmogorovSurvival(0.5)).toBeCloseTo(0.9639452436648751, 10);
      expect(kolmogorovSurvival(1.0)).toBeCloseTo(0.26999967167735456, 10);
      expect(kolmogorovSurvival(1.18)).toBeCloseTo(0.1234538094297657, 10);
      expect(kolmogorovSurvival(0)).toBe(1);
    });

    it("finds scipy's D on samples with ties, and D = 1 for disjoint samples", () => {
      const first = [1, 2, 2, 3, 3, 3, 4, 5, 5, 9];
      const second = [2, 3, 4, 4, 4, 6, 7, 7, 8, 10, 11];
      expect(ksTwoSample(first, second).d).toBeCloseTo(0.4454545454545455, 12);
      expect(ksTwoSample([1, 2, 3], [4, 5, 6]).d).toBe(1);
      expect(ksTwoSample([1, 2, 3], [1, 2, 3])).toEqual({ d: 0, pValue: 1 });
    });

    it('rejects two clearly different samples and keeps two equal ones', () => {
      const grid = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i / count);
      expect(ksTwoSample(grid(0, 400), grid(0.3, 400)).pValue).toBeLessThan(1e-10);
      expect(ksTwoSample(grid(0, 400), grid(0.001, 401)).pValue).toBeGreaterThan(0.99);
    });
  });

  describe("Pearson's chi-square test of homogeneity", () => {
    it('agrees with scipy.stats.chi2_contingency on a 2x3 table', () => {
      const result = chiSquareHomogeneity([30, 50, 20], [45, 40, 15]);
      expect(result.df).toBe(2);
      expect(result.statistic).toBeCloseTo(4.825396825396825, 10);
      expect(result.pValue).toBeCloseTo(0.08957326253887996, 10);
    });

    it("applies Yates' correction to a 2x2 table, as scipy and R do by default", () => {
      const result = chiSquareHomogeneity([12, 5], [7, 7]);
      expect(result.statistic).toBeCloseTo(0.6411202638950317, 10);
      expect(result.pValue).toBeCloseTo(0.42330542432241836, 10);
    });

    it('has nothing to compare with one category', () => {
      expect(chiSquareHomogeneity([10, 0], [20, 0])).toEqual({ statistic: 0, df: 0, pValue: 1 });
    });
  });

  describe("Welch's t-test", () => {
    it("gives R's t.test(extra ~ group, data = sleep) p = 0.07939 (Student's sleep data)", () => {
      const first = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
      const second = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
      expect(welchTest(first, second).pValue).toBeCloseTo(0.0793941401873583, 6);
      expect(welchTest(first, second).statistic).toBeCloseTo(-1.8608, 4);
    });

    it('treats two constant samples as equal exactly when their values are', () => {
      expect(welchTest([0.5, 0.5], [0.5, 0.5, 0.5]).pValue).toBe(1);
      expect(welchTest([0.5, 0.5], [0.7, 0.7]).pValue).toBe(0);
    });
  });

  describe('the population stability index', () => {
    it('is 0 for the same values and grows with a shift', () => {
      const values = Array.from({ length: 1000 }, (_, i) => i / 1000);
      expect(populationStability(values, values).psi).toBeCloseTo(0, 12);
      const shifted = values.map((value) => value + 0.25);
      expect(populationStability(shifted, values).psi).toBeGreaterThan(0.25);
    });

    it('sums (canary share - stable share) x ln(canary share / stable share) over the stable quantile bins', () => {
      // Two bins split halfway below the stable's median (2): stable 1/4 and 3/4; the canary 0 (floored at 1e-4) and 1.
      const { psi, edges } = populationStability([3, 3, 3, 3], [1, 2, 3, 4], 2);
      expect(edges).toEqual([1.5]);
      expect(psi).toBeCloseTo((1e-4 - 0.25) * Math.log(1e-4 / 0.25) + (1 - 0.75) * Math.log(1 / 0.75), 12);
    });

    it('merges repeated edges of a discrete distribution, and puts them between its values', () => {
      expect(populationStability([1, 2], [1, 1, 1, 1, 2]).edges).toEqual([1.5]);
      // Values a hair off the stable's (a change in the last digits) stay in their bins.
      const stable = [-2, -2, 1, 1, 3, 3, 5, 5, 8, 8];
      expect(
        populationStability(
          stable.map((value) => value * 1.001),
          stable,
        ).psi,
      ).toBe(0);
    });
  });

  it("Holm's adjustment (stdlib's padjust) gives its documented example", () => {
    expect(padjust([0.008, 0.03, 0.123, 0.6, 0.2], 'holm')).toEqual([0.04, 0.12, expect.closeTo(0.369, 10), 0.6, 0.4]);
  });

  it('takes the median of an odd and an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
