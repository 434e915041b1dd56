import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Sample, TrafficPoint } from '@mlbg/contract';

/** A switch, rollback or release on the charts: a vertical line with its label. */
export interface Mark {
  readonly t: number;
  readonly label: string;
  readonly ok: boolean;
}

export type Metric = 'rps' | 'errorShare' | 'p50Ms' | 'p99Ms';

/** Rows of mark labels at the top of a chart; a mark with no room left keeps its line only. */
const MARK_ROWS = 3;

const SOURCES = [
  { key: 'blue', label: 'blue /metrics', stroke: '#2563eb' },
  { key: 'green', label: 'green /metrics', stroke: '#16a34a' },
  { key: 'router', label: 'nginx (clients)', stroke: '#6b7280', dash: [6, 4] },
] as const;

const FORMAT: Record<Metric, (value: number) => string> = {
  rps: (value) => value.toFixed(value < 10 ? 1 : 0),
  errorShare: (value) => `${(value * 100).toFixed(1)}%`,
  p50Ms: (value) => `${value.toFixed(value < 10 ? 2 : 0)} ms`,
  p99Ms: (value) => `${value.toFixed(value < 10 ? 2 : 0)} ms`,
};

function value(point: TrafficPoint | null, metric: Metric): number | null {
  return point ? point[metric] : null;
}

/** Draws the marks over the plot area (a uPlot plugin: its draw hook, on its canvas). */
function marksPlugin(marks: () => readonly Mark[]): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (plot) => {
          const { ctx, bbox } = plot;
          ctx.save();
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          // Labels of marks close together go on the next free row instead of over each other.
          const rowEnds: number[] = [];
          for (const mark of marks()) {
            const x = plot.valToPos(mark.t / 1000, 'x', true);
            if (x < bbox.left || x > bbox.left + bbox.width) continue;
            ctx.strokeStyle = mark.ok ? '#9333ea' : '#dc2626';
            ctx.lineWidth = 2 * devicePixelRatio;
            ctx.setLineDash([]);
            ctx.beginPath();
            ctx.moveTo(x, bbox.top);
            ctx.lineTo(x, bbox.top + bbox.height);
            ctx.stroke();
            ctx.fillStyle = ctx.strokeStyle;
            const width = ctx.measureText(mark.label).width + 8 * devicePixelRatio;
            const left = Math.min(x + 4 * devicePixelRatio, bbox.left + bbox.width - width);
            const row = rowEnds.findIndex((end) => end <= left);
            const free = row === -1 ? rowEnds.length : row;
            if (free >= MARK_ROWS) continue;
            rowEnds[free] = left + width;
            ctx.fillText(mark.label, left, bbox.top + (12 + 13 * free) * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** One chart of the last `windowMs` (at most the 15 minutes the server keeps): the metric for blue, green (their /metrics) and nginx (its access log). */
export function Chart(props: {
  title: string;
  metric: Metric;
  samples: readonly Sample[];
  marks: readonly Mark[];
  tick: number;
  windowMs: number;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const marks = useRef(props.marks);
  marks.current = props.marks;

  useEffect(() => {
    if (!host.current) return;
    const element = host.current;
    const options: uPlot.Options = {
      width: Math.max(280, element.clientWidth),
      height: 180,
      scales: { x: { time: true }, y: { range: (_plot, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [{}, { size: 72, values: (_plot, ticks) => ticks.map((tick) => FORMAT[props.metric](tick)) }],
      series: [
        {},
        ...SOURCES.map((source) => ({
          label: source.label,
          stroke: source.stroke,
          width: 2,
          spanGaps: false,
          ...('dash' in source ? { dash: [...source.dash] } : {}),
          value: (_plot: uPlot, value: number | null) => (value === null ? '–' : FORMAT[props.metric](value)),
        })),
      ],
      plugins: [marksPlugin(() => marks.current)],
      // The caption shows the newest value of each line, in its color; the legend would repeat it.
      legend: { show: false },
    };
    plot.current = new uPlot(options, [[], [], [], []], element);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(280, element.clientWidth), height: 180 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [props.metric]);

  useEffect(() => {
    const chart = plot.current;
    if (!chart) return;
    const samples = props.samples;
    const now = samples.at(-1)?.t ?? Date.now();
    const data: uPlot.AlignedData = [
      samples.map((sample) => sample.t / 1000),
      ...SOURCES.map((source) => samples.map((sample) => value(sample[source.key], props.metric))),
    ];
    chart.batch(() => {
      chart.setData(data, false);
      chart.setScale('x', { min: (now - props.windowMs) / 1000, max: now / 1000 });
    });
  }, [props.tick, props.marks, props.windowMs]);

  const last = props.samples.at(-1);
  return (
    <figure class="chart" data-metric={props.metric} data-points={props.samples.length} data-marks={props.marks.length}>
      <figcaption>
        <span class="chart-title">{props.title}</span>
        <span class="chart-now">
          {SOURCES.map((source) => {
            const current = last ? value(last[source.key], props.metric) : null;
            return (
              <span
                key={source.key}
                class={`now now-${source.key}`}
                data-testid={`now-${props.metric}-${source.key}`}
                data-value={current ?? ''}
              >
                {source.key} {current === null ? '–' : FORMAT[props.metric](current)}
              </span>
            );
          })}
        </span>
      </figcaption>
      <div ref={host} class="chart-plot" />
    </figure>
  );
}
