import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';
import * as path from 'path';

const API = '/clustercraft/clusters';
const DOCS = path.resolve(__dirname, '..', '..', 'docs');

// One Jupyter server serves every test: run them in order and clean up after each.
test.describe.configure({ mode: 'serial' });

async function listClusters(request: APIRequestContext): Promise<any[]> {
  const response = await request.get(API);
  expect(response.ok()).toBe(true);
  return response.json();
}

async function shutdownAll(request: APIRequestContext): Promise<void> {
  for (const cluster of await listClusters(request)) {
    await request.delete(`${API}/${cluster.id}`);
  }
}

async function openPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.locator('.jp-SideBar.jp-mod-left [title="Dask clusters"]').click();
  const panel = page.locator('#clustercraft-clusters');
  await expect(panel).toBeVisible();
  return panel;
}

/** Rows of the workers table of the only card. */
function workerRows(panel: Locator): Locator {
  return panel.locator(
    '.jp-ClusterCraft-card table.jp-ClusterCraft-workersTable tr.jp-ClusterCraft-workerRow'
  );
}

/** Launch with the form's values and wait for the card and its full worker table. */
async function launch(panel: Locator, request: APIRequestContext) {
  await panel.getByRole('button', { name: 'New cluster' }).click();
  const card = panel.locator('.jp-ClusterCraft-card');
  await expect(card).toHaveCount(1);
  await expect(card).toHaveAttribute('data-status', 'running', {
    timeout: 60000
  });
  let reported = 0;
  await expect(async () => {
    const [cluster] = await listClusters(request);
    reported = cluster.n_workers;
    expect(reported).toBe(cluster.requested_workers);
    await expect(workerRows(panel)).toHaveCount(reported, { timeout: 100 });
  }).toPass({ timeout: 60000 });
  return { card, reported };
}

test.afterEach(async ({ request }) => {
  await shutdownAll(request);
});

test('New cluster shows as many worker rows as the server reports', async ({
  page,
  request
}) => {
  const panel = await openPanel(page);
  const { card, reported } = await launch(panel, request);
  expect(reported).toBeGreaterThan(0);
  await expect(card.locator('.jp-ClusterCraft-progress')).toHaveText(
    `${reported} / ${reported} workers`
  );
  const table = card.locator('table.jp-ClusterCraft-workersTable');
  for (const header of [
    'Worker',
    'Threads',
    'Memory',
    'Memory use',
    'Peak',
    'CPU',
    'Status',
    'Last seen'
  ]) {
    await expect(
      table.getByRole('columnheader', { name: header, exact: true })
    ).toHaveCount(1);
  }
  await expect(card.getByRole('rowheader', { name: 'Scheduler' })).toHaveCount(
    1
  );
  await expect(
    card.getByRole('link', { name: 'Dashboard' }).first()
  ).toHaveAttribute('href', /\/clustercraft\/dashboard\/[^/]+\/status$/);
});

test('the card gives the verdict on the run; Reset peaks starts afresh', async ({
  page,
  request
}) => {
  const panel = await openPanel(page);
  const { card } = await launch(panel, request);
  const verdict = card.locator('.jp-ClusterCraft-verdict');
  // Peaks come with the workers' heartbeats, within a second or so.
  await expect(verdict).toContainText(
    /^Largest worker peak .+ % of its .+ limit; 0 restarts — .+ would be right/,
    { timeout: 30000 }
  );
  const [cluster] = await listClusters(request);
  expect(cluster.memory_restarts).toBe(0);
  for (const worker of cluster.workers) {
    expect(worker.memory_peak).toBeGreaterThanOrEqual(worker.memory);
  }
  await card.getByRole('button', { name: 'Reset peaks' }).click();
  await expect(verdict).toContainText('0 restarts');
});

test('Scale to 3 shows 3 rows', async ({ page, request }) => {
  const panel = await openPanel(page);
  const { card } = await launch(panel, request);
  await card.getByRole('button', { name: 'Scale' }).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog
    .getByRole('spinbutton', { name: 'Workers', exact: true })
    .fill('3');
  await dialog.getByRole('button', { name: 'Scale' }).click();
  await expect(workerRows(panel)).toHaveCount(3, { timeout: 60000 });
  await expect(card.locator('.jp-ClusterCraft-progress')).toHaveText(
    '3 / 3 workers'
  );
  const [cluster] = await listClusters(request);
  expect(cluster.n_workers).toBe(3);
});

test('Scale to adaptive 1 to 2 shows the range', async ({ page, request }) => {
  const panel = await openPanel(page);
  const { card } = await launch(panel, request);
  await card.getByRole('button', { name: 'Scale' }).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.getByRole('radio', { name: 'Adaptive' }).check();
  await dialog.getByRole('spinbutton', { name: 'Minimum workers' }).fill('1');
  await dialog.getByRole('spinbutton', { name: 'Maximum workers' }).fill('2');
  await dialog.getByRole('button', { name: 'Scale' }).click();
  await expect(card.locator('.jp-ClusterCraft-progress')).toContainText(
    'adaptive 1–2'
  );
  const [cluster] = await listClusters(request);
  expect(cluster.adapt).toEqual({ minimum: 1, maximum: 2 });
});

test('Shut down asks first, then the card goes', async ({ page, request }) => {
  const panel = await openPanel(page);
  const { card } = await launch(panel, request);
  await card.getByRole('button', { name: 'Shut down' }).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('Shut down');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(card).toHaveCount(1);
  await card.getByRole('button', { name: 'Shut down' }).click();
  await page
    .locator('.jp-Dialog')
    .getByRole('button', { name: 'Shut down' })
    .click();
  await expect(panel.locator('.jp-ClusterCraft-card')).toHaveCount(0, {
    timeout: 30000
  });
  expect(await listClusters(request)).toEqual([]);
});

test('Record report, then Stop report saves the report and opens it', async ({
  page,
  request
}) => {
  const panel = await openPanel(page);
  const { card } = await launch(panel, request);
  await card.getByRole('button', { name: 'Record report' }).click();
  const stop = card.getByRole('button', { name: 'Stop report' });
  await expect(stop).toHaveAttribute('aria-pressed', 'true');
  await stop.click();
  await expect(
    page.getByRole('tab', { name: /^dask-report-cluster-\d+-.*\.html$/ })
  ).toBeVisible({ timeout: 30000 });
  await expect(
    card.getByRole('button', { name: 'Record report' })
  ).toHaveAttribute('aria-pressed', 'false');
});

test('a bad memory limit shows the server message by the field and starts nothing', async ({
  page,
  request
}) => {
  const panel = await openPanel(page);
  await panel.getByText('Options').click();
  const field = panel.getByLabel('Memory limit per worker');
  await field.fill('12 parsecs');
  await panel.getByRole('button', { name: 'New cluster' }).click();
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  const errorId = await field.getAttribute('aria-describedby');
  const message = panel.locator(`[id="${errorId}"]`);
  await expect(message).toContainText('12 parsecs');
  await expect(message).toContainText('memory_limit');
  expect(await listClusters(request)).toEqual([]);
  await expect(panel.locator('.jp-ClusterCraft-card')).toHaveCount(0);
});

test('screenshots of a running cluster in light and dark themes', async ({
  page,
  request
}) => {
  await page.sidebar.setWidth(720, 'left');
  const panel = await openPanel(page);
  await launch(panel, request);
  // Let memory and CPU readings arrive from the heartbeats.
  await page.waitForTimeout(2000);
  await panel.screenshot({ path: path.join(DOCS, 'panel.png') });
  await page.theme.setDarkTheme();
  await page.waitForTimeout(500);
  await panel.screenshot({ path: path.join(DOCS, 'panel-dark.png') });
  await page.theme.setLightTheme();
});

test('Insert client code adds a cell below the active one in the notebook', async ({
  page,
  request
}) => {
  await page.notebook.createNew('client.ipynb');
  const panel = await openPanel(page);
  const { card } = await launch(panel, request);
  const [cluster] = await listClusters(request);
  await card.getByRole('button', { name: 'Insert client code' }).click();
  await expect.poll(() => page.notebook.getCellCount()).toBe(2);
  // The panel's clusters speak TLS: the kernel connects with the cluster's own credentials.
  expect(await page.notebook.getCellTextInput(1)).toBe(
    `import clustercraft\nclient = clustercraft.connect("${cluster.name}")`
  );
  await page.notebook.runCell(1, true);
  await page.notebook.addCell(
    'code',
    'print(client.scheduler.address, len(client.scheduler_info()["workers"]))'
  );
  await page.notebook.runCell(2, true);
  expect(await page.notebook.getCellTextOutput(2)).toEqual([
    `${cluster.scheduler_address} ${cluster.n_workers}\n`
  ]);
});
