/**
 * The shortest decimal that reads back as the same float32, so a prediction of 3.1f prints
 * as 3.1 instead of 3.0999999046325684. Six significant digits settle most values; nine always do.
 */
export function shortestFloat32(value: number): number {
  for (let precision = 6; precision < 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return candidate;
  }
  return Number(value.toPrecision(9));
}
