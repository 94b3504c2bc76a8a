/**
 * How the dashboard writes times and durations: Unix seconds shown as wall-clock time in the
 * vendor's zone (operators compare them with the vendor's own screens), durations in short human
 * units. Pure; luxon only, never the process's own zone.
 */
import { DateTime } from 'luxon';

export const NONE = '—';

/** `2026-03-01 08:00:05` in `zone`, or `—`. */
export function formatEpoch(seconds: number | null | undefined, zone: string): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NONE;
  return DateTime.fromSeconds(seconds, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
}

/** `HH:mm` in `zone` (chart axis). */
export function formatClock(seconds: number, zone: string): string {
  return DateTime.fromSeconds(seconds, { zone }).toFormat('HH:mm');
}

/** `Asia/Shanghai (UTC+08:00)`, the offset as of `atSeconds`. */
export function zoneLabel(zone: string, atSeconds: number): string {
  return `${zone} (UTC${DateTime.fromSeconds(atSeconds, { zone }).toFormat('ZZ')})`;
}

/** `45 s`, `12 min`, `3 h 05 min`, `2 d 4 h`; `—` when unknown. Negative (clock skew) reads as 0 s. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NONE;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
