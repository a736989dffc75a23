import type { Dora, Page, TimelineEvent } from '../../../src/server/routes/read-api-types.ts';
import { useResource, when } from '../api.ts';
import { Failure, Loading } from '../components.tsx';

/** DORA over production and the drift and incident timeline. */
export function InsightsPage() {
  const dora = useResource<Dora>('/api/dora?days=30');
  const timeline = useResource<Page<TimelineEvent>>('/api/timeline?limit=100');
  return (
    <section>
      <h1>Delivery performance</h1>
      {dora.data ? (
        <DoraCharts dora={dora.data} />
      ) : dora.error ? (
        <Failure error={dora.error} />
      ) : (
        <Loading />
      )}
      <h2>Drift and incident timeline</h2>
      {timeline.data ? (
        <Timeline events={timeline.data.items} />
      ) : (
        <Failure error={timeline.error} />
      )}
    </section>
  );
}

function DoraCharts({ dora }: { dora: Dora }) {
  const rate = dora.changeFailureRate;
  return (
    <div className="dora">
      <p className="muted">
        {dora.envs.join(', ') || 'no production environment'}, {dora.from.slice(0, 10)} to{' '}
        {dora.to.slice(0, 10)}
      </p>
      <div className="tiles">
        <Tile label="deployments" value={String(dora.deployments)} />
        <Tile label="median lead time" value={hours(dora.medianLeadTimeHours)} />
        <Tile
          label="change failure rate"
          value={rate === undefined ? '—' : `${Math.round(rate * 100)}%`}
        />
        <Tile label="time to restore" value={hours(dora.meanTimeToRestoreHours)} />
      </div>
      <BarChart
        title="Deployments per day"
        values={dora.days.map((d) => ({ label: d.date, value: d.deployments }))}
      />
      <BarChart
        title="Median lead time per day (hours)"
        values={dora.days.map((d) => ({ label: d.date, value: d.leadTimeHours ?? 0 }))}
      />
      <BarChart
        title="Failed deployments per day"
        values={dora.days.map((d) => ({ label: d.date, value: d.failures }))}
      />
    </div>
  );
}

function Tile({ label, value }: { label: string; value: string }) {
  return (
    <div className="tile">
      <div className="value">{value}</div>
      <div className="muted">{label}</div>
    </div>
  );
}

/** A bar per day, in plain SVG. */
function BarChart({
  title,
  values,
}: {
  title: string;
  values: { label: string; value: number }[];
}) {
  const width = 600;
  const height = 120;
  const max = Math.max(1, ...values.map((v) => v.value));
  const bar = width / Math.max(1, values.length);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height + 16}`} role="img" aria-label={title}>
        <line x1="0" y1={height} x2={width} y2={height} className="axis" />
        {values.map((v, i) => {
          const h = (v.value / max) * (height - 4);
          return (
            <rect
              key={v.label}
              x={i * bar + 1}
              y={height - h}
              width={Math.max(1, bar - 2)}
              height={h}
            >
              <title>{`${v.label}: ${Math.round(v.value * 10) / 10}`}</title>
            </rect>
          );
        })}
        <text x="0" y={height + 14}>
          {values[0]?.label}
        </text>
        <text x={width} y={height + 14} textAnchor="end">
          {values.at(-1)?.label}
        </text>
      </svg>
    </figure>
  );
}

function Timeline({ events }: { events: TimelineEvent[] }) {
  if (events.length === 0) return <p className="muted">no drift or incident recorded</p>;
  return (
    <ol className="timeline" data-testid="timeline">
      {events.map((e) => (
        <li key={e.seq} className={e.kind.replace('.', '-')} data-testid="timeline-event">
          <span className="muted">{when(e.at)}</span> <a href={`#/apps/${e.app ?? ''}`}>{e.app}</a>{' '}
          <strong>{e.title}</strong> {e.detail}
        </li>
      ))}
    </ol>
  );
}

function hours(value: number | undefined): string {
  if (value === undefined) return '—';
  return value < 1 ? `${Math.round(value * 60)} min` : `${Math.round(value * 10) / 10} h`;
}
