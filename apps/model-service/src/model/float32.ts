/** Precisions tried in order; nine significant digits always read back as the same float32. */
const FIRST_PRECISION = 6;
const LAST_PRECISION = 9;
/** Powers of ten up to 1e22 are exact doubles, so products and quotients with them round once. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, exponent) => 10 ** exponent);
/**
 * How close to a rounding tie a scaled value may be before the exact (slow) rounding decides:
 * the scaled value is below 1e9, where one rounding error is under 1.2e-7.
 */
const TIE_MARGIN = 1e-6;

/**
 * The shortest decimal that reads back as the same float32, so a prediction of 3.1f prints
 * as 3.1 instead of 3.0999999046325684. Six significant digits settle most values; nine always do.
 * Equal to `Number(value.toPrecision(p))` for the first p in 6..9 that reads back, without the cost of
 * `toPrecision` on the common path (a 10,000-row answer calls this 10,000 times).
 */
export function shortestFloat32(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return byToPrecision(value);
  const magnitude = Math.abs(value);
  const exponent = Math.floor(Math.log10(magnitude));
  for (let precision = FIRST_PRECISION; precision < LAST_PRECISION; precision++) {
    const candidate = roundToPrecision(value, magnitude, exponent, precision);
    if (Number.isNaN(candidate)) return byToPrecision(value);
    if (Math.fround(candidate) === value) return candidate;
  }
  const last = roundToPrecision(value, magnitude, exponent, LAST_PRECISION);
  return Number.isNaN(last) ? byToPrecision(value) : last;
}

/**
 * `Number(value.toPrecision(precision))` by scaling to an integer of `precision` digits, or NaN when
 * that can not be done exactly (a power of ten out of range, a digit count off by one, a near-tie).
 */
function roundToPrecision(value: number, magnitude: number, exponent: number, precision: number): number {
  const shift = precision - 1 - exponent;
  if (shift > 22 || shift < -22) return NaN;
  const scaled = shift >= 0 ? magnitude * POWERS_OF_TEN[shift] : magnitude / POWERS_OF_TEN[-shift];
  const digits = Math.round(scaled);
  if (digits < POWERS_OF_TEN[precision - 1] || digits >= POWERS_OF_TEN[precision]) return NaN;
  if (Math.abs(scaled - Math.floor(scaled) - 0.5) < TIE_MARGIN) return NaN;
  // An exact integer and an exact power of ten: IEEE division and multiplication round once, as parsing does.
  const rounded = shift >= 0 ? digits / POWERS_OF_TEN[shift] : digits * POWERS_OF_TEN[-shift];
  return value < 0 ? -rounded : rounded;
}

/** The definition: the first of 6..9 significant digits whose decimal reads back as the same float32. */
function byToPrecision(value: number): number {
  for (let precision = FIRST_PRECISION; precision < LAST_PRECISION; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return candidate;
  }
  return Number(value.toPrecision(LAST_PRECISION));
}
