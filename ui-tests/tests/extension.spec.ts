import { expect, test } from '@jupyterlab/galata';

test('the extension is active and adds the "Dask clusters" sidebar tab', async ({
  page
}) => {
  const errors: string[] = [];
  page.on('console', message => {
    if (message.type() === 'error' && /clustercraft/i.test(message.text())) {
      errors.push(message.text());
    }
  });
  await page.goto();
  const tab = page.locator('.jp-SideBar.jp-mod-left [title="Dask clusters"]');
  await expect(tab).toHaveCount(1);
  await tab.click();
  await expect(page.locator('#clustercraft-clusters')).toBeVisible();
  expect(errors).toEqual([]);
});
