/**
 * The panel in Jupyter Notebook 7, which has no ILabShell: the second server
 * of playwright.config.js runs `jupyter notebook`.
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';

const PORT = Number(process.env.CLUSTERCRAFT_UI_PORT || '8899') + 1;
const NOTEBOOK = `http://127.0.0.1:${PORT}`;

async function openApp(page: Page, path: string): Promise<void> {
  await page.goto(`${NOTEBOOK}${path}`);
  await page.waitForFunction(
    () => (window as any).jupyterapp?.started !== undefined,
    null,
    { timeout: 60000 }
  );
  await page.evaluate(() => (window as any).jupyterapp.started);
}

/** View > Left Sidebar > Show Dask clusters, as a user finds it. */
async function showPanel(page: Page) {
  await page.getByRole('menuitem', { name: 'View' }).click();
  // A submenu's item is a list item, not a menu item.
  await page.locator('.lm-Menu-item', { hasText: 'Left Sidebar' }).hover();
  await page.getByText('Show Dask clusters', { exact: true }).click();
  const panel = page.locator('#clustercraft-clusters');
  await expect(panel).toBeVisible();
  return panel;
}

test('the panel loads in Notebook 7, on the file browser and a notebook', async ({
  page,
  request
}) => {
  const errors: string[] = [];
  page.on('console', message => {
    if (message.type() === 'error' && /clustercraft/i.test(message.text())) {
      errors.push(message.text());
    }
  });
  await openApp(page, '/tree');
  expect(
    await page.evaluate(() =>
      (window as any).jupyterapp.isPluginActivated('clustercraft:plugin')
    )
  ).toBe(true);
  let panel = await showPanel(page);
  await expect(
    panel.getByRole('button', { name: 'New cluster' })
  ).toBeVisible();
  // Connected to this server's clusters (none yet).
  await expect(panel.getByText('No clusters yet.')).toBeVisible();

  const created = await request.post(`${NOTEBOOK}/api/contents`, {
    data: { type: 'notebook' }
  });
  const { path } = await created.json();
  await openApp(page, `/notebooks/${path}`);
  // A notebook page asks for a kernel; the panel does not need one.
  await page
    .locator('.jp-Dialog')
    .getByRole('button', { name: 'No Kernel' })
    .click({ timeout: 15000 })
    .catch(() => undefined);
  panel = await showPanel(page);
  await expect(panel.getByText('Options')).toBeVisible();
  expect(errors).toEqual([]);
  await request.delete(`${NOTEBOOK}/api/contents/${path}`);
});
