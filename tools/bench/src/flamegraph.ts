/**
 * A flame graph of a V8 CPU profile (`node --cpu-prof`), without clinic or any viewer:
 *
 *   nx run bench:flamegraph -- <file.cpuprofile> [--out=file.svg] [--all]
 *
 * Writes a self-contained SVG (open it in a browser; hover a frame for its time) and the same
 * stacks in the folded format (`a;b;c 1234`, microseconds) that speedscope, inferno and
 * flamegraph.pl read. Like profile-top, idle time and module loading are left out unless --all.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type CpuProfile, profileSamples, ROOT_FRAME } from './profile-top';

/** Microseconds per stack, outermost frame first, `(root)` left out. Pure. */
export function foldStacks(profile: CpuProfile, options: { all: boolean }): Map<string, number> {
  const folded = new Map<string, number>();
  for (const { stack, micros } of profileSamples(profile, options)) {
    const frames = stack.filter((name) => name !== ROOT_FRAME).reverse();
    if (frames.length === 0 || micros <= 0) continue;
    const key = frames.join(';');
    folded.set(key, (folded.get(key) ?? 0) + micros);
  }
  return folded;
}

/** The folded format: one `frame;frame;frame micros` line per stack, sorted. */
export function foldedText(folded: ReadonlyMap<string, number>): string {
  return [...folded.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([stack, micros]) => `${stack} ${micros}\n`)
    .join('');
}

interface Frame {
  readonly name: string;
  micros: number;
  readonly children: Map<string, Frame>;
}

function frameTree(folded: ReadonlyMap<string, number>): Frame {
  const root: Frame = { name: 'all', micros: 0, children: new Map() };
  for (const [stack, micros] of folded) {
    root.micros += micros;
    let parent = root;
    for (const name of stack.split(';')) {
      let child = parent.children.get(name);
      if (!child) {
        child = { name, micros: 0, children: new Map() };
        parent.children.set(name, child);
      }
      child.micros += micros;
      parent = child;
    }
  }
  return root;
}

const WIDTH = 1200;
const FRAME_HEIGHT = 17;
const HEADER = 48;
const FONT_SIZE = 11;
/** About the width of one character of FONT_SIZE in a sans-serif font. */
const CHAR_WIDTH = 6.2;
/** Frames narrower than this are left out (they could not be seen or hovered). */
const MIN_FRAME_WIDTH = 0.3;

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A warm colour from the name, so a function keeps its colour across graphs. */
function colour(name: string): string {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619);
  const unit = (shift: number) => ((hash >>> shift) & 0xff) / 255;
  return `rgb(${Math.round(205 + 50 * unit(0))},${Math.round(90 + 130 * unit(8))},${Math.round(40 * unit(16))})`;
}

interface Placed {
  readonly frame: Frame;
  readonly x: number;
  readonly level: number;
  readonly width: number;
}

/** Each frame's place: as wide as its share of the time, its callees on it in alphabetical order. */
function layout(root: Frame): Placed[] {
  const placed: Placed[] = [];
  const place = (frame: Frame, x: number, level: number) => {
    const width = (frame.micros / root.micros) * WIDTH;
    if (width < MIN_FRAME_WIDTH) return;
    placed.push({ frame, x, level, width });
    let childX = x;
    for (const name of [...frame.children.keys()].sort()) {
      const child = frame.children.get(name) as Frame;
      place(child, childX, level + 1);
      childX += (child.micros / root.micros) * WIDTH;
    }
  };
  if (root.micros > 0) place(root, 0, 0);
  return placed;
}

/** The classic flame graph, the root ("all") at the bottom. Pure. */
export function renderFlameGraphSvg(folded: ReadonlyMap<string, number>, title: string): string {
  const root = frameTree(folded);
  const placed = layout(root);
  const levels = Math.max(0, ...placed.map((item) => item.level)) + 1;
  const height = HEADER + levels * FRAME_HEIGHT + 8;
  const rowY = (level: number) => height - 8 - (level + 1) * FRAME_HEIGHT;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Verdana, sans-serif" font-size="${FONT_SIZE}">`,
    `<rect width="100%" height="100%" fill="#f8f8f0"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<text x="${WIDTH / 2}" y="38" text-anchor="middle" fill="#555">${(root.micros / 1000).toFixed(1)} ms of samples; width = share of that time; hover a frame for its own</text>`,
    ...placed.map((item) => frameSvg(item, rowY(item.level), root.micros)),
    '</svg>',
    '',
  ].join('\n');
}

function frameSvg({ frame, x, width }: Placed, y: number, total: number): string {
  const tooltip = `${frame.name} (${(frame.micros / 1000).toFixed(1)} ms, ${((frame.micros / total) * 100).toFixed(1)}%)`;
  const fits = Math.floor((width - 4) / CHAR_WIDTH);
  const label = fits < 3 ? '' : frame.name.length <= fits ? frame.name : `${frame.name.slice(0, fits - 2)}..`;
  return (
    `<g><title>${escapeXml(tooltip)}</title>` +
    `<rect x="${x.toFixed(2)}" y="${y}" width="${width.toFixed(2)}" height="${FRAME_HEIGHT - 1}" fill="${frame.name === 'all' ? '#ccc' : colour(frame.name)}" rx="2"/>` +
    (label ? `<text x="${(x + 3).toFixed(2)}" y="${y + FRAME_HEIGHT - 5}">${escapeXml(label)}</text>` : '') +
    '</g>'
  );
}

function main(argv: readonly string[]): number {
  const file = argv.find((arg) => !arg.startsWith('--'));
  const unknown = argv.filter((arg) => arg.startsWith('--') && arg !== '--all' && !arg.startsWith('--out='));
  if (!file || unknown.length > 0) {
    console.error(`${unknown.length ? `unknown option ${unknown[0]}\n` : ''}usage: flamegraph <file.cpuprofile> [--out=file.svg] [--all]`);
    return 2;
  }
  let profile: CpuProfile;
  try {
    profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples)) throw new Error('no "nodes" and "samples": not a V8 CPU profile');
  } catch (error) {
    console.error(`flamegraph: can not read ${file} (${(error as Error).message}). Give a .cpuprofile written by node --cpu-prof.`);
    return 1;
  }
  const all = argv.includes('--all');
  const folded = foldStacks(profile, { all });
  if (folded.size === 0) {
    console.error(`flamegraph: ${file} has no samples${all ? '' : ' outside idle time and module loading (try --all)'}.`);
    return 1;
  }
  const svgFile = argv.find((arg) => arg.startsWith('--out='))?.slice('--out='.length) || file.replace(/\.cpuprofile$/, '') + '.svg';
  const foldedFile = svgFile.replace(/\.svg$/, '') + '.folded';
  writeFileSync(svgFile, renderFlameGraphSvg(folded, `${basename(file)}${all ? '' : ' (idle and module loading left out)'}`));
  writeFileSync(foldedFile, foldedText(folded));
  console.log(
    `Wrote ${svgFile} (open it in a browser) and ${foldedFile} (${folded.size} stacks, for speedscope, inferno or flamegraph.pl).`,
  );
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
