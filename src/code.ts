/**
 * Python code that clustercraft puts into notebooks.
 */
import { ICluster } from './schema';

/**
 * The lines that connect a notebook to a cluster. A cluster that speaks TLS
 * (the panel's, by default) is reached with its own credentials through
 * `clustercraft.connect`; any other by its address.
 */
export function clientCode(
  cluster: Pick<ICluster, 'name' | 'scheduler_address'>
): string {
  if (cluster.scheduler_address.startsWith('tls://')) {
    return `import clustercraft\nclient = clustercraft.connect(${JSON.stringify(cluster.name)})`;
  }
  return `from dask.distributed import Client\nclient = Client(${JSON.stringify(cluster.scheduler_address)})`;
}
