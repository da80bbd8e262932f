import { expect, test } from '@jupyterlab/galata';

import { listClusters, shutdownAll } from './helpers';

// Whatever a failed run leaves is shut down, so that no job stays in the queue.
test.afterEach(async ({ request }) => {
  await shutdownAll(request);
});

test('a SLURM cluster from the form: pending then running jobs, scale, shut down', async ({
  page,
  request
}) => {
  const profiles = await (await request.get('/clustercraft/profiles')).json();
  test.skip(
    !profiles.some((p: any) => p.name === 'slurm'),
    'SLURM is not running here (make test starts it when root with apt-get)'
  );
  await page.locator('.jp-SideBar.jp-mod-left [title="Dask clusters"]').click();
  const panel = page.locator('#clustercraft-clusters');
  await panel.getByText('Options').click();
  await panel
    .getByLabel('Runs on')
    .selectOption({ label: 'SLURM (debug queue)' });
  // The form follows the profile: its fields, with the profile's defaults.
  await expect(panel.getByLabel('Threads per worker')).toHaveCount(0);
  await expect(panel.getByLabel(/Cores per job/)).toBeVisible();
  await panel.getByLabel('Workers', { exact: true }).fill('2');
  await panel.getByRole('button', { name: 'New cluster' }).click();

  const card = panel.locator('.jp-ClusterCraft-card');
  await expect(card).toHaveCount(1);
  const jobs = card.locator('.jp-ClusterCraft-jobs');
  // Jobs wait in the queue, then run.
  await expect(jobs).toContainText(
    /slurm: \d running, \d pending in queue debug/
  );
  await expect(jobs).toContainText('2 running, 0 pending in queue debug', {
    timeout: 90000
  });
  await expect(card.locator('.jp-ClusterCraft-progress')).toHaveText(
    '2 / 2 workers',
    { timeout: 60000 }
  );

  await card.getByRole('button', { name: 'Scale' }).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog
    .getByRole('spinbutton', { name: 'Workers', exact: true })
    .fill('1');
  await dialog.getByRole('button', { name: 'Scale' }).click();
  await expect(card.locator('.jp-ClusterCraft-progress')).toHaveText(
    '1 / 1 worker',
    { timeout: 60000 }
  );
  // The retired worker's job ends (or is cancelled) once the worker has left.
  await expect(jobs).toContainText('1 running, 0 pending', { timeout: 120000 });

  await card.getByRole('button', { name: 'Shut down' }).click();
  await page
    .locator('.jp-Dialog')
    .getByRole('button', { name: 'Shut down' })
    .click();
  await expect(card).toHaveCount(0, { timeout: 90000 });
  expect(await listClusters(request)).toEqual([]);
});
