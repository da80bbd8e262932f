/**
 * The module the kernel's widgets name (clustercraft/kernel/widgets.py asks
 * for `^<version>`), read from package.json so the two cannot drift.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const data = require('../../package.json');

export const MODULE_NAME = 'clustercraft';
export const MODULE_VERSION: string = data.version;
