/** What the Galata specs share: the clusters route, listing and clean-up, screenshots. */
import { expect } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';
import * as path from 'path';

export const API = '/clustercraft/clusters';

/**
 * Where the tests save the screenshots they take: `docs/` (the README's) with
 * UPDATE_DOCS=1, else beside the test results, so a test run leaves the clone
 * as it found it.
 */
export const DOCS = process.env.UPDATE_DOCS
  ? path.resolve(__dirname, '..', '..', 'docs')
  : path.resolve(__dirname, '..', 'test-results', 'screenshots');

/** Every cluster the server lists. */
export async function listClusters(request: APIRequestContext): Promise<any[]> {
  const response = await request.get(API);
  expect(response.ok()).toBe(true);
  return response.json();
}

/** Shut down every cluster the server lists (what a failed test left too). */
export async function shutdownAll(request: APIRequestContext): Promise<void> {
  for (const cluster of await listClusters(request)) {
    await request.delete(`${API}/${cluster.id}`);
  }
}
