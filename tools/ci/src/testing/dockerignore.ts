/**
 * The subset of .dockerignore matching the build uses: one pattern a line, `#` comments, `*`
 * within a path segment, `**` across segments, `!` to re-include; a path is left out when it or
 * one of its parent folders matches (the last matching pattern wins), as in moby/patternmatcher.
 */
export function dockerignoreMatcher(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const exclude = !line.startsWith('!');
      const pattern = (exclude ? line : line.slice(1)).replace(/^\/+|\/+$/g, '');
      return { exclude, regex: toRegExp(pattern) };
    });
  return (path: string) => {
    const segments = path.replace(/^\/+/, '').split('/');
    const candidates = segments.map((_, index) => segments.slice(0, index + 1).join('/'));
    let ignored = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regex.test(candidate))) ignored = rule.exclude;
    }
    return ignored;
  };
}

function toRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '*' && pattern[index + 1] === '*') {
      // `**/` matches zero or more folders
      source += pattern[index + 2] === '/' ? '(?:.*/)?' : '.*';
      index += pattern[index + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
