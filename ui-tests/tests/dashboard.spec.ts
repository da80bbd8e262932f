import { expect, test } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';
import * as path from 'path';
import { API, DOCS } from './helpers';

async function runningCluster(request: APIRequestContext): Promise<any> {
  const response = await request.post(API, {
    data: { name: 'plots', n_workers: 1, processes: false }
  });
  expect(response.status()).toBe(201);
  const { id } = await response.json();
  await expect
    .poll(
      async () => (await (await request.get(`${API}/${id}`)).json()).status,
      {
        timeout: 60000
      }
    )
    .toBe('running');
  return (await request.get(`${API}/${id}`)).json();
}

test('the Task Stream opens as a pane from the palette, draws, and says when its cluster is gone', async ({
  page,
  request
}) => {
  const cluster = await runningCluster(request);
  // Through the Jupyter server, never the scheduler's own port.
  expect(cluster.dashboard_link).toMatch(
    new RegExp(`/clustercraft/dashboard/${cluster.id}/status$`)
  );

  await page.evaluate(() =>
    (window as any).jupyterapp.commands.execute(
      'apputils:activate-command-palette'
    )
  );
  const palette = page.locator('.lm-CommandPalette');
  await palette.locator('input').fill('Open Task Stream');
  const item = palette.locator('.lm-CommandPalette-item', {
    hasText: 'Open Task Stream'
  });
  await item.first().click();

  const pane = page.locator('.jp-ClusterCraft-dashboardPane');
  await expect(pane).toHaveCount(1);
  await expect(
    page.getByRole('tab', { name: /Task Stream — plots/ })
  ).toBeVisible();
  const plot = page.frameLocator('.jp-ClusterCraft-dashboardPane iframe');
  await expect(plot.locator('canvas').first()).toBeVisible({ timeout: 60000 });

  await page.screenshot({ path: path.join(DOCS, 'dashboard-pane.png') });

  // The card's Dashboard menu lists the scheduler's plots.
  await page.locator('.jp-SideBar.jp-mod-left [title="Dask clusters"]').click();
  await page
    .locator('#clustercraft-clusters')
    .getByRole('link', { name: 'Dashboard', exact: true })
    .click();
  await page
    .locator('.lm-Menu')
    .getByRole('menuitem', { name: /^Open Progress$/ })
    .click();
  await expect(
    page.getByRole('tab', { name: /Progress — plots/ })
  ).toBeVisible();
  await expect(pane).toHaveCount(2);

  await request.delete(`${API}/${cluster.id}`);
  await expect(
    pane.first().locator('.jp-ClusterCraft-dashboardGone')
  ).toContainText('has been shut down or lost');
});
