/**
 * Just enough Markdown for checking the docs' links and README.md's map: headings with GitHub's
 * anchors, relative links, and the map's folder tree. Written here rather than taken from a
 * Markdown parser: the workspace has none, the rules are short, and the checks only need headings,
 * links and fenced blocks.
 */

/** Lines outside fenced code blocks (``` or ~~~), with their 1-based line numbers. */
export function proseLines(text: string): { line: number; text: string }[] {
  const lines: { line: number; text: string }[] = [];
  let fence: string | null = null;
  text.split('\n').forEach((raw, index) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker && (fence === null || (marker[0] === fence[0] && marker.length >= fence.length))) {
      fence = fence === null ? marker : null;
      return;
    }
    if (fence === null) lines.push({ line: index + 1, text: raw });
  });
  return lines;
}

/** The text a heading shows: inline code, links and emphasis reduced to their words. */
function headingText(markdown: string): string {
  return markdown
    .replace(/\s+#+\s*$/, '')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`([^`]*)`/g, '$1')
    .trim();
}

/**
 * GitHub's anchor for a heading's text (as github-slugger makes it): lowercase, every character
 * that is not a letter, a digit, `_`, `-` or a space removed, each space turned into `-`.
 */
export function slug(text: string): string {
  return headingText(text)
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file has: one per ATX heading, a repeated one with -1, -2, ... */
export function anchors(text: string): Set<string> {
  const seen = new Set<string>();
  for (const { text: line } of proseLines(text)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    let anchor = base;
    for (let n = 1; seen.has(anchor); n += 1) anchor = `${base}-${n}`;
    seen.add(anchor);
  }
  return seen;
}

export interface Link {
  readonly line: number;
  /** The target as written, e.g. `docs/operate.md#errors`. */
  readonly target: string;
}

/** Links (and images) to places in the repository: `[text](target)`, outside code; web addresses are left out. */
export function relativeLinks(text: string): Link[] {
  const links: Link[] = [];
  for (const { line, text: raw } of proseLines(text)) {
    const prose = raw.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
      links.push({ line, target });
    }
  }
  return links;
}

/** `a{b,c{d,e}}f` -> `abf`, `acdf`, `acef` (bash's brace expansion, without ranges). */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  const parts: string[] = [];
  let start = open + 1;
  for (let i = open; i < pattern.length; i += 1) {
    const char = pattern[i];
    if (char === '{') depth += 1;
    else if (char === '}' && --depth === 0) {
      parts.push(pattern.slice(start, i));
      const head = pattern.slice(0, open);
      const tail = pattern.slice(i + 1);
      return parts.flatMap((part) => expandBraces(`${head}${part}${tail}`));
    } else if (char === ',' && depth === 1) {
      parts.push(pattern.slice(start, i));
      start = i + 1;
    }
  }
  throw new Error(`unbalanced braces in ${pattern}`);
}

/**
 * The folders a map names. The map is a tree: a line's first word is a folder (it ends in `/`),
 * relative to the nearest line above it that is less indented; the rest of the line says what it
 * is. Lines whose first word is not a folder are comments.
 */
export function mapFolders(map: string): string[] {
  const parents: { indent: number; paths: string[] }[] = [];
  const folders: string[] = [];
  for (const line of map.split('\n')) {
    const match = /^(\s*)(\S+)/.exec(line);
    if (!match?.[2]?.endsWith('/')) continue;
    const indent = match[1]?.length ?? 0;
    while (parents.length > 0 && (parents.at(-1)?.indent ?? 0) >= indent) parents.pop();
    const bases = parents.at(-1)?.paths ?? [''];
    const paths = bases.flatMap((base) => expandBraces(match[2] ?? '').map((path) => `${base}${path}`));
    parents.push({ indent, paths });
    folders.push(...paths.map((path) => path.replace(/\/$/, '')));
  }
  return folders;
}

/** Whether a map's folder (`models/fixtures/*`: `*` is any one folder) names `folder` or a folder inside it. */
export function mapCovers(mapFolder: string, folder: string): boolean {
  const named = mapFolder.split('/');
  const wanted = folder.split('/');
  return wanted.length <= named.length && wanted.every((segment, i) => named[i] === '*' || named[i] === segment);
}

/** The body of the first fenced block after the heading `title` (e.g. `## Map`). */
export function fencedBlockAfter(text: string, title: string): string | undefined {
  const from = text.indexOf(`\n${title}\n`);
  if (from < 0) return undefined;
  return /\n```[^\n]*\n([\s\S]*?)\n```/.exec(text.slice(from))?.[1];
}
