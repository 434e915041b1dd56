import { fitLeastSquares, rootMeanSquaredError } from './least-squares';

describe('fitLeastSquares', () => {
  it('recovers exact coefficients from noiseless data', () => {
    const rows = [
      [0, 1],
      [1, 0],
      [2, 3],
      [-1, 4],
      [3, -2],
    ];
    const targets = rows.map(([a, b]) => 2 * a - 3 * b + 0.5);
    const fit = fitLeastSquares(rows, targets);
    expect(fit.weights[0]).toBeCloseTo(2, 10);
    expect(fit.weights[1]).toBeCloseTo(-3, 10);
    expect(fit.bias).toBeCloseTo(0.5, 10);
  });

  it('gives the mean as bias when the feature explains nothing', () => {
    const fit = fitLeastSquares([[-1], [1], [-1], [1]], [1, 1, 3, 3]);
    expect(fit.weights[0]).toBeCloseTo(0, 12);
    expect(fit.bias).toBeCloseTo(2, 12);
  });

  it('refuses a constant feature (collinear with the bias) and mismatched lengths', () => {
    expect(() => fitLeastSquares([[1], [1], [1]], [1, 2, 3])).toThrow(/linearly dependent/);
    expect(() => fitLeastSquares([[1], [2]], [1])).toThrow();
  });
});

describe('rootMeanSquaredError', () => {
  it('is the square root of the mean squared residual', () => {
    expect(rootMeanSquaredError([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(rootMeanSquaredError([0, 0], [3, 4])).toBeCloseTo(Math.sqrt(12.5), 12);
  });
});
