/**
 * Human-readable formatting shared by every table and report.
 */

const BYTE_UNITS = ['B', 'kiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * Format a byte count the way Dask's `format_bytes` does: binary units,
 * two decimals, e.g. `1.50 GiB`.
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) {
    return '–';
  }
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 * 0.95 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${sign}${Math.round(value)} B`
    : `${sign}${value.toFixed(2)} ${BYTE_UNITS[unit]}`;
}
