import fc from 'fast-check';
import { readPlainPredictBody } from './predict-body';
import { createPredictValidator, type PredictBatch } from './predict-validation';

const MAX_ROWS = 50;

/** The general path: JSON.parse, then the validator; undefined where it refuses. */
function generalPath(text: string, width: number): PredictBatch | undefined {
  try {
    return createPredictValidator({ featureCount: width, maxBatchRows: MAX_ROWS })(JSON.parse(text));
  } catch {
    return undefined;
  }
}

const sameBatch = (a: PredictBatch, b: PredictBatch) =>
  a.rows === b.rows && a.input.length === b.input.length && a.input.every((value, i) => Object.is(value, b.input[i]));

describe('readPlainPredictBody (a /predict body straight into the tensor)', () => {
  it.each([
    ['the original example', '{"features": [[1], [2], [3]]}', 1, [1, 2, 3]],
    ['compact', '{"features":[[1.5,-2],[0,3e2]]}', 2, [1.5, -2, 0, 300]],
    ['every JSON space', ' \t\n{ \r\n"features" :\t[ [ 1 , 2 ] ,\n[3,4] ] }\n', 2, [1, 2, 3, 4]],
    ['exponents and signs', '{"features": [[1E5, 1e+5, 1e-5, -0.25e1]]}', 4, [1e5, 1e5, 1e-5, -2.5]],
    [
      'long decimals',
      '{"features": [[0.1234567890123456789, 12345678901234567890]]}',
      2,
      [Number('0.1234567890123456789'), Number('12345678901234567890')],
    ],
    ['a 5,000-digit number', `{"features": [[0.${'3'.repeat(5000)}]]}`, 1, [1 / 3]],
    ['negative zero', '{"features": [[-0]]}', 1, [-0]],
  ])('reads %s', (_name, text, width, values) => {
    const batch = readPlainPredictBody(Buffer.from(text), width, MAX_ROWS);
    expect(batch).toBeDefined();
    expect(Array.from(batch?.input ?? [])).toEqual(values.map((value) => Math.fround(value)));
    expect(sameBatch(batch as PredictBatch, generalPath(text, width) as PredictBatch)).toBe(true);
  });

  it.each([
    ['an empty body', ''],
    ['an empty batch', '{"features": []}'],
    ['an empty row', '{"features": [[]]}'],
    ['a ragged row', '{"features": [[1], [2, 3]]}'],
    ['a missing value', '{"features": [[1, ]]}'],
    ['a string value', '{"features": [["1"]]}'],
    ['null', '{"features": [[null]]}'],
    ['nesting', '{"features": [[[1]]]}'],
    ['a leading zero', '{"features": [[01]]}'],
    ['a bare dot', '{"features": [[1.]]}'],
    ['a leading dot', '{"features": [[.5]]}'],
    ['a plus sign', '{"features": [[+1]]}'],
    ['an empty exponent', '{"features": [[1e]]}'],
    ['NaN', '{"features": [[NaN]]}'],
    ['too large for float32', '{"features": [[1e39]]}'],
    ['too small for float32', '{"features": [[-3.5e38]]}'],
    ['Infinity by overflow', '{"features": [[1e999]]}'],
    ['another key', '{"features": [[1]], "x": 1}'],
    ['a key before', '{"x": 1, "features": [[1]]}'],
    ['an escaped key', '{"feat\\u0075res": [[1]]}'],
    ['a trailing comma', '{"features": [[1],]}'],
    ['trailing text', '{"features": [[1]]} x'],
    ['two objects', '{"features": [[1]]}{}'],
    ['a byte order mark', '\ufeff{"features": [[1]]}'],
    ['a non-JSON space', '{"features":\u00a0[[1]]}'],
    ['more rows than the limit', JSON.stringify({ features: Array.from({ length: MAX_ROWS + 1 }, () => [1]) })],
    ['an array body', '[[1]]'],
    ['non-ASCII bytes', '{"features": [[1]]}\u00e9'],
  ])('leaves %s to the general path', (_name, text) => {
    expect(readPlainPredictBody(Buffer.from(text), 1, MAX_ROWS)).toBeUndefined();
  });

  const number = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.integer(),
    fc.constantFrom(0, -0, 1e-45, 3.4028234663852886e38, 3.4028235677973366e38, -3.4028236e38, 1e39),
  );
  const spelling = fc.tuple(number, fc.constantFrom('plain', 'exponent', 'fixed', 'upper')).map(([value, how]) => {
    if (how === 'exponent') return value.toExponential();
    if (how === 'upper') return value.toExponential().toUpperCase();
    if (how === 'fixed' && Math.abs(value) < 1e15) return value.toFixed(Math.min(20, 1 + (Math.abs(Math.round(value)) % 19)));
    return JSON.stringify(value);
  });
  const space = fc.constantFrom('', ' ', '\n', '\t', '\r\n ', '  ');
  const body = fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 8 }))
    .chain(([width, rows]) =>
      fc.tuple(
        fc.constant(width),
        fc.array(fc.array(spelling, { minLength: width, maxLength: width }), { minLength: rows, maxLength: rows }),
        space,
        space,
      ),
    )
    .map(([width, rows, a, b]) => ({
      width,
      text: `${a}{${b}"features"${a}:${b}[${rows.map((row) => `[${b}${row.join(`${a},${b}`)}${a}]`).join(`,${a}`)}]${b}}${a}`,
    }));

  it('reads exactly what JSON.parse and the validator read, value for value (property test)', () => {
    fc.assert(
      fc.property(body, ({ width, text }) => {
        const fast = readPlainPredictBody(Buffer.from(text), width, MAX_ROWS);
        const general = generalPath(text, width);
        // The general path decides: the fast one may only decline, never differ.
        if (fast) expect(general && sameBatch(fast, general)).toBe(true);
        // Valid plain bodies are all read by the fast path.
        expect(Boolean(fast)).toBe(Boolean(general));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads JSON.stringify output of any valid request', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: -3e38, max: 3e38, noNaN: true }), { minLength: 2, maxLength: 2 }), {
          minLength: 1,
          maxLength: MAX_ROWS,
        }),
        (rows) => {
          const text = JSON.stringify({ features: rows });
          const fast = readPlainPredictBody(Buffer.from(text), 2, MAX_ROWS);
          expect(fast && sameBatch(fast, generalPath(text, 2) as PredictBatch)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
