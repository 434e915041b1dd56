/**
 * The object without its undefined values: `{ a: 1, b: undefined }` -> `{ a: 1 }`, so optional
 * fields stay absent (in JSON, in `toEqual`) instead of present and undefined.
 */
export function dropUndefined<T extends object>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
