/**
 * A small OpenMetrics registry: counters and gauges with labels, rendered in the text format
 * Prometheus and Datadog's OpenMetrics check read (`# TYPE`, `# HELP`, `_total` counters,
 * terminated by `# EOF`).
 */
type Labels = Record<string, string>;

interface Family {
  type: 'counter' | 'gauge';
  help: string;
  samples: Map<string, { labels: Labels; value: number }>;
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string): (labels?: Labels, by?: number) => void {
    const family = this.family(name, 'counter', help);
    return (labels = {}, by = 1) => {
      const sample = this.sample(family, labels);
      sample.value += by;
    };
  }

  gauge(name: string, help: string): (value: number, labels?: Labels) => void {
    const family = this.family(name, 'gauge', help);
    return (value, labels = {}) => {
      this.sample(family, labels).value = value;
    };
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, family] of [...this.families].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# TYPE ${name} ${family.type}`, `# HELP ${name} ${escapeHelp(family.help)}`);
      const suffix = family.type === 'counter' ? '_total' : '';
      for (const { labels, value } of family.samples.values()) {
        lines.push(`${name}${suffix}${renderLabels(labels)} ${value}`);
      }
    }
    lines.push('# EOF');
    return `${lines.join('\n')}\n`;
  }

  private family(name: string, type: Family['type'], help: string): Family {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`);
    const existing = this.families.get(name);
    if (existing) return existing;
    const family: Family = { type, help, samples: new Map() };
    this.families.set(name, family);
    return family;
  }

  private sample(family: Family, labels: Labels) {
    const key = JSON.stringify(Object.entries(labels).sort());
    let sample = family.samples.get(key);
    if (!sample) {
      sample = { labels, value: 0 };
      family.samples.set(key, sample);
    }
    return sample;
  }
}

function renderLabels(labels: Labels): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '';
  const body = entries.map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return `{${body.join(',')}}`;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export const OPENMETRICS_CONTENT_TYPE =
  'application/openmetrics-text; version=1.0.0; charset=utf-8';
