/** Precisions tried in order; nine significant digits always read back as the same float32. */
const FIRST_PRECISION = 6;
const LAST_PRECISION = 9;
/** Powers of ten up to 1e22 are exact doubles, so products and quotients with them round once. */
const LARGEST_EXACT_POWER = 22;
const POWERS_OF_TEN = Array.from({ length: LARGEST_EXACT_POWER + 1 }, (_, exponent) => 10 ** exponent);
/**
 * How close to a rounding tie a scaled value may be before the exact (slow) rounding decides:
 * the scaled value is below 1e9, where three rounding errors are under 3.4e-7.
 */
const TIE_MARGIN = 1e-6;
/**
 * The relative error of a candidate made with more than one rounding (a power of ten beyond 1e22,
 * at most three roundings of 2^-53 each), with room: within it, whether it reads back is certain.
 */
const SCALING_SLACK = 1e-15;
/** Number::toString writes 0.digits × 10^point without an exponent when point is in this range. */
const LOWEST_PLAIN_POINT = -5;
const HIGHEST_PLAIN_POINT = 21;

/*
 * The decimal the last `findDecimal` call found, as module state rather than an object per value:
 * this runs for every number of an answer (300 for a 100-row classifier answer, 10,000 for a large batch).
 */
/** Its significant digits, without trailing zeros (an integer below 1e9). */
let foundDigits = 0;
/** Its value is foundDigits × 10^foundExponent. */
let foundExponent = 0;
/** Its value as a double, or NaN when that took more than one rounding (then parse the text). */
let foundDouble = 0;

/**
 * The shortest decimal that reads back as the same float32, so a prediction of 3.1f prints
 * as 3.1 instead of 3.0999999046325684. Six significant digits settle most values; nine always do.
 * Equal to `Number(value.toPrecision(p))` for the first p in 6..9 that reads back, without the cost of
 * `toPrecision` on the common path (a 10,000-row answer calls this 10,000 times).
 */
export function shortestFloat32(value: number): number {
  if (value === 0 || !Number.isFinite(value) || !findDecimal(value)) return byToPrecision(value);
  if (!Number.isNaN(foundDouble)) return value < 0 ? -foundDouble : foundDouble;
  return Number(decimalText(value < 0));
}

/**
 * `JSON.stringify(shortestFloat32(value))` for a finite value, written straight from its digits:
 * no double to print back (V8's number printing cost as much as finding the digits), and no
 * `toPrecision` for the tiny values (below about 1e-17) a classifier's probabilities often are.
 */
export function float32Json(value: number): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value) || !findDecimal(value)) return String(byToPrecision(value));
  return decimalText(value < 0);
}

/**
 * Finds the decimal `shortestFloat32` answers for a finite, non-zero value and leaves it in the
 * `found*` variables; false when that can not be done quickly and surely (a digit count off by one,
 * a near-tie, a candidate too close to the float32 rounding boundary): the caller then takes `toPrecision`.
 */
function findDecimal(value: number): boolean {
  const magnitude = Math.abs(value);
  const exponent = Math.floor(Math.log10(magnitude));
  for (let precision = FIRST_PRECISION; precision <= LAST_PRECISION; precision++) {
    // value ≈ digits × 10^-shift, with `precision` digits.
    let shift = precision - 1 - exponent;
    const scaled = scaleByPowerOfTen(magnitude, shift);
    if (Math.abs(scaled - Math.floor(scaled) - 0.5) < TIE_MARGIN) return false;
    let digits = Math.round(scaled);
    if (digits === POWERS_OF_TEN[precision]) {
      // Rounded up to the next power of ten (0.9999995 to six digits is 1.00000), as toPrecision does.
      digits = POWERS_OF_TEN[precision - 1];
      shift--;
    } else if (digits < POWERS_OF_TEN[precision - 1] || digits > POWERS_OF_TEN[precision]) return false;
    const exact = shift <= LARGEST_EXACT_POWER && shift >= -LARGEST_EXACT_POWER;
    // An exact integer and an exact power of ten: IEEE division and multiplication round once, as parsing does.
    const candidate = scaleByPowerOfTen(digits, -shift);
    if (precision < LAST_PRECISION) {
      if (exact) {
        if (Math.fround(candidate) !== magnitude) continue;
      } else {
        const below = Math.fround(candidate * (1 - SCALING_SLACK));
        if (below !== Math.fround(candidate * (1 + SCALING_SLACK))) return false;
        if (below !== magnitude) continue;
      }
    }
    setFound(digits, -shift, exact ? candidate : NaN);
    return true;
  }
  return false;
}

/** magnitude × 10^shift: one rounding when |shift| <= 22, at most three otherwise (float32 needs |shift| <= 53). */
function scaleByPowerOfTen(magnitude: number, shift: number): number {
  let scaled = magnitude;
  let left = shift;
  while (left > LARGEST_EXACT_POWER) {
    scaled *= POWERS_OF_TEN[LARGEST_EXACT_POWER];
    left -= LARGEST_EXACT_POWER;
  }
  while (left < -LARGEST_EXACT_POWER) {
    scaled /= POWERS_OF_TEN[LARGEST_EXACT_POWER];
    left += LARGEST_EXACT_POWER;
  }
  return left >= 0 ? scaled * POWERS_OF_TEN[left] : scaled / POWERS_OF_TEN[-left];
}

function setFound(digits: number, exponent: number, double: number): void {
  let significant = digits;
  let lastExponent = exponent;
  while (significant % 10 === 0) {
    significant /= 10;
    lastExponent++;
  }
  foundDigits = significant;
  foundExponent = lastExponent;
  foundDouble = double;
}

/** The found decimal as ECMAScript's Number::toString writes it (so as JSON.stringify does). */
function decimalText(negative: boolean): string {
  const digits = String(foundDigits);
  const count = digits.length;
  // value = 0.digits × 10^point
  const point = foundExponent + count;
  let text: string;
  if (point >= count && point <= HIGHEST_PLAIN_POINT) text = digits + '0'.repeat(point - count);
  else if (point > 0 && point <= HIGHEST_PLAIN_POINT) text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  else if (point >= LOWEST_PLAIN_POINT && point <= 0) text = `0.${'0'.repeat(-point)}${digits}`;
  else {
    const exponent = point - 1;
    const mantissa = count === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
    text = `${mantissa}e${exponent > 0 ? '+' : '-'}${Math.abs(exponent)}`;
  }
  return negative ? `-${text}` : text;
}

/** The definition: the first of 6..9 significant digits whose decimal reads back as the same float32. */
function byToPrecision(value: number): number {
  for (let precision = FIRST_PRECISION; precision < LAST_PRECISION; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return candidate;
  }
  return Number(value.toPrecision(LAST_PRECISION));
}
