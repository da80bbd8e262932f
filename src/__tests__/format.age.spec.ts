import { formatAge, formatDuration, formatPercent } from '../format';

describe('formatAge', () => {
  const now = 1_000_000 * 1000;

  it('says how long ago in the largest whole unit', () => {
    expect(formatAge(1_000_000 - 120, now)).toBe('2 minutes ago');
    expect(formatAge(1_000_000 - 61, now)).toBe('1 minute ago');
    expect(formatAge(1_000_000 - 5, now)).toBe('5 seconds ago');
    expect(formatAge(1_000_000 - 3 * 3600, now)).toBe('3 hours ago');
    expect(formatAge(1_000_000 - 86400, now)).toBe('1 day ago');
  });

  it('says "just now" under a second, also for clocks slightly ahead', () => {
    expect(formatAge(1_000_000 - 0.4, now)).toBe('just now');
    expect(formatAge(1_000_000 + 2, now)).toBe('just now');
  });

  it('renders missing times as a dash', () => {
    expect(formatAge(null, now)).toBe('–');
    expect(formatAge(0, now)).toBe('–');
    expect(formatAge(NaN, now)).toBe('–');
  });
});

describe('formatDuration and formatPercent', () => {
  it('formats', () => {
    expect(formatDuration(0)).toBe('0 seconds');
    expect(formatDuration(7200)).toBe('2 hours');
    expect(formatPercent(12.345)).toBe('12.3 %');
    expect(formatPercent(undefined)).toBe('–');
  });
});
