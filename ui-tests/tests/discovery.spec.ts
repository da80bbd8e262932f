import { expect, test } from '@jupyterlab/galata';

import { listClusters } from './helpers';

test.describe.configure({ mode: 'serial' });

test('a cluster made in a notebook appears in the panel, and leaves it when closed', async ({
  page,
  request
}) => {
  await page.notebook.createNew('discovery.ipynb');
  await page.notebook.setCell(
    0,
    'code',
    '%load_ext clustercraft\nfrom distributed import LocalCluster\n' +
      "cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=':0')"
  );
  await page.notebook.runCell(0);

  await page.locator('.jp-SideBar.jp-mod-left [title="Dask clusters"]').click();
  const panel = page.locator('#clustercraft-clusters');
  await expect(panel).toBeVisible();
  // The kernel lists it within a second, the server finds it within another.
  // Named after the notebook's session (galata's new notebook keeps its first name).
  const card = panel.locator('.jp-ClusterCraft-card', {
    hasText: /from kernel: \w+\.ipynb/
  });
  await expect(card).toHaveCount(1, { timeout: 30000 });
  await expect(card).toHaveAttribute('data-status', 'running');
  await expect(
    card.locator(
      'table.jp-ClusterCraft-workersTable tr.jp-ClusterCraft-workerRow'
    )
  ).toHaveCount(1, { timeout: 30000 });
  const [listed] = (await listClusters(request)).filter(
    cluster => cluster.origin === 'kernel'
  );
  const [session] = await (await request.get('/api/sessions')).json();
  expect(listed.kernel.notebook).toBe(session.path);
  expect(listed.kernel.id).toBe(session.kernel.id);

  // Closed in the notebook: its card goes, with no "lost" state on the way.
  await page.notebook.addCell('code', 'cluster.close()');
  await page.notebook.runCell((await page.notebook.getCellCount()) - 1);
  await expect(card).toHaveCount(0, { timeout: 30000 });
  expect(
    (await listClusters(request)).filter(c => c.origin === 'kernel')
  ).toHaveLength(0);
});
