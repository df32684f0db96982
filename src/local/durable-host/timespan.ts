/** .NET TimeSpan text ("d.hh:mm:ss[.fffffff]" or "hh:mm:ss") <-> milliseconds. */

const TIMESPAN = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;

export function parseTimeSpan(text: string, field = 'duration'): number {
  const m = TIMESPAN.exec(text.trim());
  if (!m) {
    throw new Error(
      `${field}: "${text}" is not a .NET TimeSpan; use "d.hh:mm:ss" (for example "6.00:00:00").`,
    );
  }
  const [, neg, d, h, min, s, frac] = m;
  const ms =
    Number(d ?? 0) * 86_400_000 +
    Number(h) * 3_600_000 +
    Number(min) * 60_000 +
    Number(s) * 1000 +
    (frac ? Math.round(Number(`0.${frac}`) * 1000) : 0);
  return neg ? -ms : ms;
}

export function formatTimeSpan(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0)
    throw new Error(`formatTimeSpan: ${ms} must be a finite, non-negative number`);
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  const frac = rest - s * 1000;
  const pad = (n: number) => String(n).padStart(2, '0');
  const fracText = frac > 0 ? `.${String(frac).padStart(3, '0')}0000` : '';
  return `${days}.${pad(h)}:${pad(m)}:${pad(s)}${fracText}`;
}

/** .NET `TimeSpan.ToString()` ("c" format): "hh:mm:ss", with "d." only when there are days. */
export function formatTimeSpanConstant(ms: number): string {
  const text = formatTimeSpan(ms);
  return text.startsWith('0.') ? text.slice(2) : text;
}
