import { expect, test } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';
import * as path from 'path';
import { API, DOCS, listClusters } from './helpers';

test.describe.configure({ mode: 'serial' });

async function clusterIds(request: APIRequestContext): Promise<string[]> {
  return (await listClusters(request)).map(cluster => cluster.id);
}

/** Add a code cell at the end and run it; its index. */
async function runNewCell(page: any, source: string): Promise<number> {
  await page.notebook.addCell('code', source);
  const index = (await page.notebook.getCellCount()) - 1;
  await page.notebook.runCell(index);
  return index;
}

test('a Client shows a live worker table; %%peakmem shows a chart and launches its cluster', async ({
  page,
  request
}) => {
  const before = await clusterIds(request);
  await page.notebook.createNew('widgets.ipynb');
  try {
    await page.notebook.setCell(
      0,
      'code',
      '%load_ext clustercraft\nfrom dask.distributed import Client\n' +
        "client = Client(n_workers=2, threads_per_worker=1, dashboard_address=':0')"
    );
    await page.notebook.runCell(0);

    // A live table: 2 worker rows, then 1 after scaling, with no re-run of the cell.
    await runNewCell(page, 'client');
    const info = page.locator('.jp-ClusterCraft-clusterInfo');
    const rows = info.locator('table.jp-ClusterCraft-workersTable tbody tr');
    await expect(rows).toHaveCount(2);
    await expect(
      info.getByRole('columnheader', { name: 'Worker', exact: true })
    ).toHaveCount(1);
    await expect(
      info.getByRole('columnheader', { name: 'Peak', exact: true })
    ).toHaveCount(1);
    // Each worker's peak arrives with its heartbeat; the verdict shows once a
    // task has run (an idle worker's peak is no run's).
    await runNewCell(page, 'client.submit(sum, [1, 2]).result()');
    await expect(info.locator('.jp-ClusterCraft-verdict')).toContainText(
      /^Largest worker peak .+; 0 restarts — /,
      { timeout: 30000 }
    );
    await expect(
      info.getByRole('button', { name: 'Reset peaks' })
    ).toBeEnabled();
    await info.screenshot({ path: path.join(DOCS, 'cluster-info.png') });
    await runNewCell(page, 'client.cluster.scale(1)');
    await expect(rows).toHaveCount(1, { timeout: 30000 });

    const reportCell = await runNewCell(
      page,
      '%%peakmem\nimport numpy as np\nx = np.ones(2**23)\ndel x'
    );
    const report = page.locator('.jp-ClusterCraft-peakReport');
    await expect(report.locator('svg[role="img"] polyline')).toHaveCount(1);
    await expect(
      report.getByRole('table', { name: 'Peak memory figures' })
    ).toBeVisible();
    const launch = report.getByRole('button', {
      name: 'Launch recommended cluster'
    });
    await expect(launch).toBeVisible();
    await expect(
      report.getByRole('button', { name: 'Copy as code' })
    ).toBeVisible();
    await report.screenshot({ path: path.join(DOCS, 'peakmem.png') });

    await launch.click();
    await expect(report.getByRole('status').last()).toContainText(
      'is running',
      {
        timeout: 90000
      }
    );
    const panel = page.locator('#clustercraft-clusters');
    await expect(panel).toBeVisible();
    // The launched cluster, beside the notebook's own Client cluster (origin "kernel").
    const launched = (await listClusters(request)).filter(
      (cluster: any) =>
        cluster.origin === 'panel' && !before.includes(cluster.id)
    );
    expect(launched).toHaveLength(1);
    await expect(
      panel.getByRole('region', { name: `Cluster ${launched[0].name}` })
    ).toBeVisible();
    // The new cell right below the report holds the launched cluster's client code.
    const code = await page.notebook.getCellTextInput(reportCell + 1);
    expect(code).toMatch(
      /^import clustercraft\nclient = clustercraft\.connect\("cluster-\d+"\)$/
    );
    // Another click asks first; Cancel starts nothing.
    await launch.click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText('Launch another cluster?');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toHaveCount(0);
    expect(
      (await listClusters(request)).filter(
        (cluster: any) =>
          cluster.origin === 'panel' && !before.includes(cluster.id)
      )
    ).toHaveLength(1);
    // It connects, with the launched cluster's own TLS credentials.
    await page.notebook.runCell(reportCell + 1, true);
    await page.notebook.addCell(
      'code',
      'print(client.scheduler.address.startswith("tls://"), len(client.scheduler_info()["workers"]))'
    );
    const check = (await page.notebook.getCellCount()) - 1;
    await page.notebook.runCell(check, true);
    expect((await page.notebook.getCellTextOutput(check))?.join('')).toMatch(
      /^True [1-9]\d*\n$/
    );

    // A recommendation the server would refuse (more workers than it allows)
    // cannot be launched, and says why.
    await runNewCell(page, '%%peakmem --workers 500\nx = 1');
    const refused = page.locator('.jp-ClusterCraft-peakReport').last();
    const disabled = refused.getByRole('button', {
      name: 'Launch recommended cluster'
    });
    await expect(disabled).toBeDisabled();
    await expect(refused.getByRole('status').last()).toContainText(
      'The Jupyter server would refuse this cluster'
    );
    await expect(refused).toContainText('at most');
  } finally {
    for (const id of await clusterIds(request)) {
      if (!before.includes(id)) {
        await request.delete(`${API}/${id}`);
      }
    }
    await page.notebook.addCell('code', 'client.close()');
    await page.notebook.runCell((await page.notebook.getCellCount()) - 1);
  }
});
