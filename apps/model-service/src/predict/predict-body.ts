import { FLOAT32_MAX } from '@mlbg/contract';
import type { PredictBatch } from './predict-validation';

/** Exact doubles: a decimal with at most this many digits and a power of ten up to 1e22 round once (Clinger's fast path). */
const EXACT_DIGITS = 15;
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, exponent) => 10 ** exponent);
const FEATURES_KEY = Buffer.from('"features"', 'latin1');

const CHAR = {
  tab: 9,
  newline: 10,
  carriageReturn: 13,
  space: 32,
  quote: 34,
  comma: 44,
  minus: 45,
  dot: 46,
  zero: 48,
  nine: 57,
  colon: 58,
  open: 91,
  close: 93,
  openBrace: 123,
  closeBrace: 125,
  e: 101,
  E: 69,
  plus: 43,
};

/**
 * Reads a `/predict` body of the plain shape `{"features": [[1.5, 2], [3, 4e-2], ...]}` straight from
 * its bytes into the model's input tensor: one pass, no string, no intermediate arrays, the batch
 * copied once.
 *
 * It accepts a strict subset of JSON in ASCII (one `"features"` key, rows of exactly `width` JSON
 * numbers that fit in a float32, JSON whitespace, at most `maxRows` rows) and returns undefined for anything else,
 * valid or not; the caller then parses and validates the body the general way, which decides the
 * answer. What it accepts, `JSON.parse` plus the validator accept too, with the very same values.
 */
export function readPlainPredictBody(text: Uint8Array, width: number, maxRows: number): PredictBatch | undefined {
  let at = skipSpace(text, 0);
  if (text[at] !== CHAR.openBrace) return undefined;
  at = skipSpace(text, at + 1);
  for (let i = 0; i < FEATURES_KEY.length; i++) if (text[at + i] !== FEATURES_KEY[i]) return undefined;
  at = skipSpace(text, at + FEATURES_KEY.length);
  if (text[at] !== CHAR.colon) return undefined;
  at = skipSpace(text, at + 1);
  if (text[at] !== CHAR.open) return undefined;
  const rows = countRows(text, at + 1);
  if (rows === 0 || rows > maxRows) return undefined;

  const input = new Float32Array(rows * width);
  let slot = 0;
  at = skipSpace(text, at + 1);
  for (let row = 0; row < rows; row++) {
    if (row > 0) {
      if (text[at] !== CHAR.comma) return undefined;
      at = skipSpace(text, at + 1);
    }
    if (text[at] !== CHAR.open) return undefined;
    at = skipSpace(text, at + 1);
    for (let column = 0; column < width; column++) {
      if (column > 0) {
        if (text[at] !== CHAR.comma) return undefined;
        at = skipSpace(text, at + 1);
      }
      const end = numberEnd(text, at);
      if (end === at) return undefined;
      const value = numberValue(text, at, end);
      if (!(value >= -FLOAT32_MAX && value <= FLOAT32_MAX)) return undefined;
      input[slot++] = value;
      at = skipSpace(text, end);
    }
    if (text[at] !== CHAR.close) return undefined;
    at = skipSpace(text, at + 1);
  }
  if (text[at] !== CHAR.close) return undefined;
  at = skipSpace(text, at + 1);
  if (text[at] !== CHAR.closeBrace) return undefined;
  at = skipSpace(text, at + 1);
  return at === text.length ? { rows, input } : undefined;
}

function skipSpace(text: Uint8Array, at: number): number {
  for (;;) {
    const code = text[at];
    if (code !== CHAR.space && code !== CHAR.newline && code !== CHAR.carriageReturn && code !== CHAR.tab) return at;
    at++;
  }
}

/** The `[` of each row after the batch's own: an upper bound the walk then checks exactly. */
function countRows(text: Uint8Array, from: number): number {
  let rows = 0;
  for (let at = text.indexOf(CHAR.open, from); at !== -1; at = text.indexOf(CHAR.open, at + 1)) rows++;
  return rows;
}

const isDigit = (code: number) => code >= CHAR.zero && code <= CHAR.nine;

/** Where the JSON number starting at `at` ends (`at` itself when there is none): `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`. */
function numberEnd(text: Uint8Array, at: number): number {
  const start = at;
  if (text[at] === CHAR.minus) at++;
  if (text[at] === CHAR.zero) at++;
  else if (isDigit(text[at])) while (isDigit(text[at])) at++;
  else return start;
  if (text[at] === CHAR.dot) {
    at++;
    if (!isDigit(text[at])) return start;
    while (isDigit(text[at])) at++;
  }
  const e = text[at];
  if (e === CHAR.e || e === CHAR.E) {
    at++;
    const sign = text[at];
    if (sign === CHAR.plus || sign === CHAR.minus) at++;
    if (!isDigit(text[at])) return start;
    while (isDigit(text[at])) at++;
  }
  return at;
}

/**
 * The double a JSON number denotes, as `JSON.parse` reads it. Plain decimals of up to 15 digits are
 * an exact integer divided by an exact power of ten, which IEEE rounds once, exactly as parsing does;
 * anything longer or with an exponent goes through `Number`.
 */
function numberValue(text: Uint8Array, start: number, end: number): number {
  let at = start;
  const negative = text[at] === CHAR.minus;
  if (negative) at++;
  let digits = 0;
  let significand = 0;
  let fractionDigits = 0;
  let inFraction = false;
  for (; at < end; at++) {
    const code = text[at];
    if (code === CHAR.dot) {
      inFraction = true;
      continue;
    }
    if (!isDigit(code) || ++digits > EXACT_DIGITS)
      return Number(Buffer.from(text.buffer, text.byteOffset + start, end - start).toString('latin1'));
    significand = significand * 10 + (code - CHAR.zero);
    if (inFraction) fractionDigits++;
  }
  const magnitude = significand / POWERS_OF_TEN[fractionDigits];
  return negative ? -magnitude : magnitude;
}
