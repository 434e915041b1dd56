import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';
import { WORKSPACE_ROOT } from './workspace';

const BUILTINS = new Set(builtinModules);
const NOT_SHIPPED = /(\.spec\.ts|\.test-d\.ts|\.d\.ts)$|(^|\/)testing\//;

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !NOT_SHIPPED.test(relative(WORKSPACE_ROOT, path)) ? [path] : [];
  });
}

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * The npm packages the shipped code of a source folder `require()`s at run time: each file is
 * compiled to CommonJS as tsc does for the build (so type-only imports disappear and tslib
 * helpers appear), then its require() calls are read. Built-in modules are left out.
 */
export function runtimePackages(sourceRoot: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  for (const file of sourceFiles(join(WORKSPACE_ROOT, sourceRoot))) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        importHelpers: true,
        esModuleInterop: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
    });
    for (const match of outputText.matchAll(/\brequire\("([^"]+)"\)/g)) {
      const specifier = match[1];
      if (specifier.startsWith('.') || specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0])) continue;
      const name = packageOf(specifier);
      packages.set(name, [...(packages.get(name) ?? []), relative(WORKSPACE_ROOT, file)]);
    }
  }
  return packages;
}
