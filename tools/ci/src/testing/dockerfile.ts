/** One Dockerfile instruction, continuation lines joined and comments dropped. */
export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  keyword: string;
  /** Everything after the keyword, on one line. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
  /** Index of the stage it belongs to; -1 before the first FROM (global ARGs). */
  stage: number;
}

export interface Stage {
  index: number;
  name?: string;
  /** The base image with global ARG defaults substituted, e.g. node:20-bookworm-slim. */
  image: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  instructions: Instruction[];
  stages: Stage[];
}

/**
 * Parses a Dockerfile line-wise, the way the builder reads it: `\` continues a line, `#` lines
 * are comments (also inside a continued instruction), the first word is the keyword.
 */
export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  let pending: { text: string; line: number } | undefined;
  let stage = -1;
  for (const [index, raw] of lines.entries()) {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && !pending)) continue;
    const continued = trimmed.endsWith('\\');
    const part = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending ? { text: `${pending.text} ${part}`.trim(), line: pending.line } : { text: part, line: index + 1 };
    if (continued) continue;
    const match = /^(\S+)\s*(.*)$/.exec(pending.text);
    if (match) {
      const keyword = match[1].toUpperCase();
      if (keyword === 'FROM') stage += 1;
      instructions.push({ keyword, args: match[2], line: pending.line, stage });
    }
    pending = undefined;
  }
  const globalArgs = new Map<string, string>();
  for (const instruction of instructions.filter((i) => i.stage === -1 && i.keyword === 'ARG')) {
    const [name, value = ''] = instruction.args.split('=', 2);
    globalArgs.set(name.trim(), value.trim());
  }
  const stages: Stage[] = instructions
    .filter((instruction) => instruction.keyword === 'FROM')
    .map((from) => {
      const [image, as, name] = from.args.replace(/--platform=\S+\s+/, '').split(/\s+/);
      return {
        index: from.stage,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        image: image.replace(/\$\{?(\w+)\}?/g, (_, arg: string) => globalArgs.get(arg) ?? ''),
        instructions: instructions.filter((instruction) => instruction.stage === from.stage),
      };
    });
  return { instructions, stages };
}

/** `ENV A=1 B=2` (or the legacy `ENV A 1`) as a map. */
export function envOf(instructions: readonly Instruction[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const { args } of instructions.filter((i) => i.keyword === 'ENV')) {
    if (!args.includes('=')) {
      const [name, ...value] = args.split(/\s+/);
      env.set(name, value.join(' '));
      continue;
    }
    for (const match of args.matchAll(/(\w+)=("[^"]*"|\S*)/g)) env.set(match[1], match[2].replace(/^"|"$/g, ''));
  }
  return env;
}

/** The JSON array of an exec-form instruction (`CMD ["node", "main.js"]`), or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  const json = args.replace(/^(--\S+\s+)*(CMD\s+)?/, '');
  if (!json.startsWith('[')) return undefined;
  return JSON.parse(json) as string[];
}
