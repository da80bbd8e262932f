/**
 * Python code that clustercraft puts into notebooks.
 */

/** The two lines that connect a notebook to a cluster. */
export function clientCode(address: string): string {
  return `from dask.distributed import Client\nclient = Client(${JSON.stringify(address)})`;
}
