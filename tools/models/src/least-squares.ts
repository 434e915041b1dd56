/** Coefficients of y ≈ weights · z + bias. */
export interface LinearFit {
  weights: number[];
  bias: number;
}

// Below this pivot the normal equations are treated as singular (e.g. a constant feature).
const SINGULAR_PIVOT = 1e-12;

/**
 * Ordinary least squares by the normal equations (ZᵀZ)β = Zᵀy, solved in float64 by Gaussian
 * elimination with partial pivoting. `rows` are the (already transformed) feature vectors.
 */
export function fitLeastSquares(rows: readonly (readonly number[])[], targets: readonly number[]): LinearFit {
  if (rows.length === 0 || rows.length !== targets.length) {
    throw new Error(`least squares: need as many targets as rows (rows ${rows.length}, targets ${targets.length})`);
  }
  // The last column of 1s carries the bias.
  const design = rows.map((row) => [...row, 1]);
  const size = design[0].length;
  const gram = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  const moment = new Array<number>(size).fill(0);
  design.forEach((z, r) => {
    for (let i = 0; i < size; i++) {
      moment[i] += z[i] * targets[r];
      for (let j = 0; j < size; j++) gram[i][j] += z[i] * z[j];
    }
  });
  const beta = solve(gram, moment);
  return { weights: beta.slice(0, -1), bias: beta[size - 1] };
}

// Solves a·x = b for a small dense square system; a and b are consumed.
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) < SINGULAR_PIVOT) throw new Error('least squares: the features are linearly dependent');
    [a[col], a[pivot]] = [a[pivot], a[col]];
    [b[col], b[pivot]] = [b[pivot], b[col]];
    for (let r = col + 1; r < n; r++) {
      const factor = a[r][col] / a[col][col];
      for (let c = col; c < n; c++) a[r][c] -= factor * a[col][c];
      b[r] -= factor * b[col];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let sum = b[r];
    for (let c = r + 1; c < n; c++) sum -= a[r][c] * x[c];
    x[r] = sum / a[r][r];
  }
  return x;
}

/** Root mean squared error of predictions against targets. */
export function rootMeanSquaredError(predictions: readonly number[], targets: readonly number[]): number {
  if (predictions.length === 0 || predictions.length !== targets.length) {
    throw new Error('rmse: need the same, non-zero number of predictions and targets');
  }
  const sum = predictions.reduce((acc, p, i) => acc + (p - targets[i]) ** 2, 0);
  return Math.sqrt(sum / predictions.length);
}
