import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';

/** A small JSON document kept in one file, written whole (temp file + rename), validated when read. */
export interface JsonFile<T> {
  readonly where: string;
  /** undefined when missing or not valid. */
  read(): T | undefined;
  write(value: T): void;
  remove(): void;
}

export function jsonFile<S extends z.ZodType>(file: string, schema: S): JsonFile<z.infer<S>> {
  return {
    where: file,
    read: () => {
      try {
        const parsed = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },
    write: (value) => {
      // Its folder may not exist yet: on Kubernetes nothing else makes this machine's state folder (only the user reads it).
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const next = `${file}.${process.pid}.tmp`;
      writeFileSync(next, `${JSON.stringify(value, null, 2)}\n`);
      renameSync(next, file);
    },
    remove: () => rmSync(file, { force: true }),
  };
}
