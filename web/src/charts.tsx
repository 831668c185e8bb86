import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { forwardRef, useEffect, useImperativeHandle, useRef } from 'react';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, BarController, BarElement, DoughnutController, ArcElement, Legend, Tooltip, Filler);
Chart.defaults.font.family = getComputedStyle(document.documentElement).getPropertyValue('--font').trim() || 'system-ui, sans-serif';
Chart.defaults.color = '#4a5568';
Chart.defaults.animation = false;

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c'];

export interface SeriesSpec {
  readonly label: string;
  readonly color?: string;
  /** A second y axis on the right (e.g. accuracy next to F1 in [0, 1] is the same axis; throughput is not). */
  readonly axis?: 'y' | 'y2';
}

export interface LiveLineHandle {
  /** Queues a point; points reach the chart once per animation frame, never a redraw per point. */
  push(series: number, x: number, y: number): void;
  clear(): void;
}

interface LiveLineProps {
  readonly testId: string;
  readonly series: readonly SeriesSpec[];
  readonly xLabel: string;
  readonly yLabel?: string;
  readonly yMin?: number;
  readonly yMax?: number;
  readonly percent?: boolean;
  readonly height?: number;
}

/**
 * A line chart that grows as events arrive. The element carries `data-points` (points drawn, all
 * series) and `data-series` (points per series), so tests read what was drawn without pixels.
 */
export const LiveLineChart = forwardRef<LiveLineHandle, LiveLineProps>(function LiveLineChart(props, ref) {
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'line', { x: number; y: number }[]> | null>(null);
  const pending = useRef<{ series: number; x: number; y: number }[]>([]);
  const frame = useRef<number | null>(null);

  const mark = () => {
    const c = chart.current;
    if (!c || !box.current) return;
    const counts = c.data.datasets.map((d) => d.data.length);
    box.current.dataset['points'] = String(counts.reduce((a, b) => a + b, 0));
    box.current.dataset['series'] = counts.join(',');
  };

  const flush = () => {
    frame.current = null;
    const c = chart.current;
    if (!c) return;
    for (const p of pending.current.splice(0)) c.data.datasets[p.series]?.data.push({ x: p.x, y: p.y });
    c.update('none');
    mark();
  };

  useImperativeHandle(ref, () => ({
    push(series, x, y) {
      pending.current.push({ series, x, y });
      frame.current ??= requestAnimationFrame(flush);
    },
    clear() {
      pending.current.length = 0;
      for (const d of chart.current?.data.datasets ?? []) d.data.length = 0;
      chart.current?.update('none');
      mark();
    },
  }));

  const seriesKey = props.series.map((s) => `${s.label}:${s.axis ?? 'y'}`).join('|');
  useEffect(() => {
    const twoAxes = props.series.some((s) => s.axis === 'y2');
    const tick = props.percent ? (v: number | string) => `${(Number(v) * 100).toFixed(0)}%` : undefined;
    const config: ChartConfiguration<'line', { x: number; y: number }[]> = {
      type: 'line',
      data: {
        datasets: props.series.map((s, i) => ({
          label: s.label,
          data: [],
          borderColor: s.color ?? PALETTE[i % PALETTE.length],
          backgroundColor: s.color ?? PALETTE[i % PALETTE.length],
          yAxisID: s.axis ?? 'y',
          borderWidth: 2,
          pointRadius: 0,
          pointHitRadius: 6,
          tension: 0.2,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: { legend: { display: props.series.length > 1, position: 'bottom' } },
        scales: {
          x: { type: 'linear', title: { display: true, text: props.xLabel }, ticks: { precision: 0 } },
          y: {
            type: 'linear',
            ...(props.yMin === undefined ? {} : { min: props.yMin }),
            ...(props.yMax === undefined ? {} : { max: props.yMax }),
            title: { display: Boolean(props.yLabel), text: props.yLabel ?? '' },
            ...(tick ? { ticks: { callback: tick } } : {}),
          },
          ...(twoAxes ? { y2: { type: 'linear' as const, position: 'right' as const, grid: { drawOnChartArea: false } } } : {}),
        },
      },
    };
    chart.current = new Chart(canvas.current!, config);
    mark();
    return () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
      chart.current?.destroy();
      chart.current = null;
    };
    // The chart is made once per series layout; its data only ever grows through push().
  }, [seriesKey]);

  return (
    <div className="chart" ref={box} data-testid={props.testId} data-points="0" style={{ height: props.height ?? 260 }}>
      <canvas ref={canvas} />
    </div>
  );
});

interface CategoryChartProps {
  readonly testId: string;
  readonly type: 'bar' | 'doughnut';
  readonly labels: readonly string[];
  readonly datasets: readonly { label: string; values: readonly number[]; color?: string }[];
  readonly percent?: boolean;
  readonly stacked?: boolean;
  readonly horizontal?: boolean;
  readonly height?: number;
}

/** Bars or a doughnut over categories; new values update the chart in place (no new chart per event). */
export function CategoryChart(props: CategoryChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar' | 'doughnut', number[], string> | null>(null);

  useEffect(() => {
    const tick = props.percent ? (v: number | string) => `${(Number(v) * 100).toFixed(0)}%` : undefined;
    const valueAxis = props.horizontal ? 'x' : 'y';
    chart.current = new Chart(canvas.current!, {
      type: props.type,
      data: { labels: [], datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: props.horizontal ? 'y' : 'x',
        plugins: { legend: { display: props.type === 'doughnut' || props.datasets.length > 1, position: 'bottom' } },
        ...(props.type === 'bar'
          ? {
              scales: {
                x: { stacked: Boolean(props.stacked) },
                y: { stacked: Boolean(props.stacked) },
                [valueAxis]: { stacked: Boolean(props.stacked), beginAtZero: true, ...(props.percent ? { max: 1, ticks: { callback: tick } } : {}) },
              },
            }
          : {}),
      },
    } as ChartConfiguration<'bar' | 'doughnut', number[], string>);
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [props.type, props.percent, props.stacked, props.horizontal]);

  const dataKey = JSON.stringify([props.labels, props.datasets]);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data.labels = [...props.labels];
    const doughnut = props.type === 'doughnut';
    props.datasets.forEach((d, i) => {
      const colors = doughnut ? props.labels.map((_, j) => PALETTE[j % PALETTE.length]!) : (d.color ?? PALETTE[i % PALETTE.length]!);
      const existing = c.data.datasets[i];
      if (existing) {
        existing.data = [...d.values];
        existing.label = d.label;
      } else {
        c.data.datasets.push({ label: d.label, data: [...d.values], backgroundColor: colors, borderWidth: doughnut ? 1 : 0 } as never);
      }
    });
    c.data.datasets.length = props.datasets.length;
    c.update('none');
    if (box.current) box.current.dataset['values'] = props.datasets.map((d) => d.values.join(',')).join(';');
  }, [dataKey, props.type]);

  return (
    <div className="chart" ref={box} data-testid={props.testId} style={{ height: props.height ?? 240 }}>
      <canvas ref={canvas} />
    </div>
  );
}
