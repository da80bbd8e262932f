/**
 * The one way to talk to the clustercraft server extension: `requestAPI`
 * for REST and `openEvents` for the push channel.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Every route lives under this path of the server's base URL. */
export const API_NAMESPACE = 'clustercraft';

/**
 * A failed request. `status` is 0 when the server could not be reached;
 * `field` names the offending input of a 400 answer.
 */
export class APIError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field: string | null = null
  ) {
    super(message);
    this.name = 'APIError';
  }

  /** True when the server (or the clustercraft extension) is not there. */
  get unreachable(): boolean {
    return this.status === 0 || this.status === 404;
  }
}

/**
 * Call a clustercraft REST route and return its parsed JSON (`undefined` for 204).
 *
 * @param endPoint - path under `/clustercraft/`, e.g. `clusters/abc`.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new APIError(
      (error as Error).message || 'The Jupyter server is unreachable.',
      0
    );
  }
  const text = await response.text();
  let data: any = undefined;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!response.ok) {
    throw new APIError(
      data?.message || response.statusText || `HTTP ${response.status}`,
      response.status,
      data?.field ?? null
    );
  }
  return data as T;
}

/**
 * The URL of the push channel, with the token when the settings carry one,
 * as JupyterLab's own kernel and terminal websockets do.
 */
export function eventsUrl(
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  let url = URLExt.join(settings.wsUrl, API_NAMESPACE, 'clusters', 'events');
  if (settings.appendToken && settings.token !== '') {
    url += `?token=${encodeURIComponent(settings.token)}`;
  }
  return url;
}

/**
 * Open the push channel; messages are `IClusterEvent`s as JSON text.
 */
export function openEvents(
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): WebSocket {
  return new settings.WebSocket(eventsUrl(settings));
}
