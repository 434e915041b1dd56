/** The `/predict` bodies the benchmark sends: the original 3-row example, 100 and 10,000 rows. */
export function predictBody(rows: number): string {
  if (rows === 3) return '{"features": [[1], [2], [3]]}';
  const features = Array.from({ length: rows }, (_, i) => [Math.round(((i % 600) / 100) * 1000) / 1000]);
  return JSON.stringify({ features });
}

/** Flower measurements (cm) near each class of the shipped classifier, as real requests to it look. */
const FLOWER_CENTERS = [
  [5.0, 3.4, 1.5, 0.2],
  [5.9, 2.8, 4.3, 1.3],
  [6.6, 3.0, 5.6, 2.0],
];

/** A `/predict` body for the shipped classifier: `rows` rows of 4 features, the classes in turn, each row a little off its center. */
export function classifierBody(rows: number): string {
  const features = Array.from({ length: rows }, (_, i) =>
    FLOWER_CENTERS[i % 3].map((center, j) => Math.round((center + (((i * 7 + j) % 11) - 5) * 0.06) * 100) / 100),
  );
  return JSON.stringify({ features });
}
