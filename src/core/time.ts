const MAX_DATE_MS = 8_640_000_000_000_000n;

/** Absolute ISO time of an offset from the capture origin, exact to the nanosecond when it has them. */
export function isoTime(originNs: bigint | null, offsetNs: number): string | null {
  if (originNs === null) return null;
  const abs = originNs + BigInt(Math.round(offsetNs));
  const ms = abs / 1_000_000n;
  // A corrupt timestamp can lie outside what a Date holds (±8.64e15 ms); before 1970 is as bogus.
  if (abs < 0n || ms > MAX_DATE_MS) return null;
  const subMs = Number(abs % 1_000_000n);
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const frac = (Number(ms % 1000n) * 1_000_000 + subMs).toString().padStart(9, '0');
  return `${base}.${frac.endsWith('000') ? frac.slice(0, 6) : frac}Z`;
}

export function durationMs(fromNs: number, toNs: number | null): number | null {
  if (toNs === null) return null;
  return Math.round((toNs - fromNs) / 1e3) / 1e3;
}

export interface DurationUnit {
  name: 'µs' | 'ms' | 's';
  /** Nanoseconds in one. */
  ns: number;
}

const DURATION_UNITS: readonly (DurationUnit & { below: number })[] = [
  { name: 'µs', ns: 1e3, below: 1e6 },
  { name: 'ms', ns: 1e6, below: 1e9 },
  { name: 's', ns: 1e9, below: 120e9 },
];

/** The unit formatDuration writes `ns` in: µs below 1 ms, ms below 1 s, s below 2 min; null from there (minutes, hours). */
export function durationUnit(ns: number): DurationUnit | null {
  return DURATION_UNITS.find((u) => ns < u.below) ?? null;
}

/** "412.5 ms", "3.20 s", "4 h 2 min" */
export function formatDuration(ns: number): string {
  const ms = ns / 1e6;
  const s = ms / 1000;
  switch (durationUnit(ns)?.name) {
    case 'µs':
      return `${(ns / 1e3).toFixed(0)} µs`;
    case 'ms':
      return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
    case 's':
      return `${s.toFixed(2)} s`;
  }
  const min = Math.floor(s / 60);
  if (min < 120) return `${min} min ${Math.round(s % 60)} s`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** "+412.5 ms", "−3.20 s" */
export function formatSignedDuration(ns: number): string {
  return `${ns >= 0 ? '+' : '−'}${formatDuration(Math.abs(ns))}`;
}
