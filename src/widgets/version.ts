/**
 * The module the kernel's widgets name (clustercraft/kernel/widgets.py asks
 * for `^<version>`); keep in step with package.json's version.
 */
export const MODULE_NAME = 'clustercraft';
export const MODULE_VERSION = '0.1.0';
