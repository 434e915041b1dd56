/** The `/predict` bodies the benchmark sends: the original 3-row example, 100 and 10,000 rows. */
export function predictBody(rows: number): string {
  if (rows === 3) return '{"features": [[1], [2], [3]]}';
  const features = Array.from({ length: rows }, (_, i) => [Math.round(((i % 600) / 100) * 1000) / 1000]);
  return JSON.stringify({ features });
}
