import { enableCompileCache, flushCompileCache } from 'node:module';

/**
 * Keeps V8's compiled code of every module this process loads on disk (os.tmpdir()/node-compile-cache,
 * or the folder NODE_COMPILE_CACHE names) for the next start: a color restarted after a crash, whose
 * start-up is the live route's whole outage window, then compiles next to nothing. main.ts imports
 * this first, so it covers every module loaded after it. A folder it can not write only turns it off.
 */
enableCompileCache();

/** Writes the cache now: Node writes it at a normal exit only, which a killed process never reaches. */
export function saveCompileCache(): void {
  flushCompileCache();
}
