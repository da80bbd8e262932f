import { formatBytes } from '../format';

describe('formatBytes', () => {
  it('matches dask.utils.format_bytes for common sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1024)).toBe('1.00 kiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.50 GiB');
    expect(formatBytes(4 * 2 ** 40)).toBe('4.00 TiB');
  });

  it('switches unit slightly before the boundary, like Dask', () => {
    expect(formatBytes(1000 * 1024)).toBe('0.98 MiB');
  });

  it('renders missing values as a dash', () => {
    expect(formatBytes(null)).toBe('–');
    expect(formatBytes(undefined)).toBe('–');
    expect(formatBytes(NaN)).toBe('–');
  });
});
