import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';
import * as path from 'path';
import { API, DOCS, listClusters, shutdownAll } from './helpers';

// One Jupyter server serves every test: run them in order and clean up after each.
test.describe.configure({ mode: 'serial' });

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
  // A new card takes the focus.
  await expect(card).toBeFocused();
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

/** The box of `locator` lies wholly inside the box of `container`. */
async function expectWithin(locator: Locator, container: Locator) {
  const box = (await locator.boundingBox())!;
  const outer = (await container.boundingBox())!;
  expect(box.width).toBeGreaterThan(0);
  expect(box.x).toBeGreaterThanOrEqual(outer.x - 0.5);
  expect(box.x + box.width).toBeLessThanOrEqual(outer.x + outer.width + 0.5);
}

/** WCAG contrast ratio of two computed `rgb(...)` colours. */
function contrast(foreground: string, background: string): number {
  const luminance = (color: string) => {
    const [r, g, b] = color
      .match(/[\d.]+/g)!
      .slice(0, 3)
      .map(Number)
      .map(v => v / 255)
      .map(v => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(foreground), luminance(background)].sort(
    (a, b) => b - a
  );
  return (light + 0.05) / (dark + 0.05);
}

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

test('at the default sidebar width the key columns are wholly in view, the rest in a row’s details', async ({
  page,
  request
}) => {
  const panel = await openPanel(page);
  // The sidebar as JupyterLab opens it.
  const width = (await panel.boundingBox())!.width;
  expect(width).toBeGreaterThanOrEqual(240);
  expect(width).toBeLessThanOrEqual(260);
  const { card } = await launch(panel, request);
  const [cluster] = await listClusters(request);
  const table = card.locator('table.jp-ClusterCraft-workersTable');
  const scroller = card.locator('.jp-ClusterCraft-workersScroller');
  for (const name of ['Worker', 'Memory use', 'CPU']) {
    await expectWithin(
      table.getByRole('columnheader', { name, exact: true }),
      scroller
    );
  }
  const row = workerRows(panel).first();
  await expectWithin(row.getByRole('meter'), scroller);
  await expectWithin(row.locator('td').nth(5), scroller);
  await expect(row.locator('td').nth(5)).toHaveText(/^\d+\.\d %$/);
  // Memory use with its percentage.
  await expect(row.locator('.jp-ClusterCraft-memoryBar-label')).toHaveText(
    /^\d+ %$/
  );
  expect(await scroller.evaluate(e => e.scrollWidth <= e.clientWidth)).toBe(
    true
  );
  // Out of view, the other columns are still the table's, for screen readers.
  for (const name of ['Threads', 'Memory', 'Status']) {
    await expect(
      table.getByRole('columnheader', { name, exact: true })
    ).toHaveCount(1);
  }
  // The worker's name opens its details, by keyboard too.
  const toggle = row.locator('.jp-ClusterCraft-workerToggle');
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const details = table.locator('.jp-ClusterCraft-workerDetails');
  await expect(details).toBeVisible();
  const field = (name: string) =>
    details.locator('dt', { hasText: new RegExp(`^${name}$`) }).locator('+ dd');
  await expect(field('Threads')).toHaveText('1');
  await expect(field('Memory')).toHaveText('1.00 GiB');
  await expect(field('Status')).toHaveText('running');
  await expectWithin(field('Memory use'), scroller);
  // The scheduler address: whole for screen readers, its end in view, and a copy button.
  const scheduler = card.getByRole('row', { name: /^Scheduler/ });
  await expect(scheduler.locator('td')).toHaveText(cluster.scheduler_address);
  const port = cluster.scheduler_address.split(':').pop();
  await expect(scheduler.locator('.jp-ClusterCraft-addressTail')).toHaveText(
    `:${port}`
  );
  const copy = scheduler.getByRole('button', {
    name: 'Copy the scheduler address'
  });
  await expectWithin(copy, card);
  await expectWithin(scheduler.locator('.jp-ClusterCraft-addressTail'), card);

  // Wider, the status column comes back; nothing needed is clipped on the way.
  for (const sidebar of [300, 400]) {
    await page.sidebar.setWidth(sidebar, 'left');
    await expect(
      table.getByRole('columnheader', { name: 'Status', exact: true })
    ).not.toHaveClass(/jp-ClusterCraft-offscreen/);
    for (const name of ['Worker', 'Memory use', 'CPU', 'Status']) {
      await expectWithin(
        table.getByRole('columnheader', { name, exact: true }),
        scroller
      );
    }
    expect(await scroller.evaluate(e => e.scrollWidth <= e.clientWidth)).toBe(
      true
    );
  }
});

test('one worker is "1 worker"; Escape gives the focus back to the button that opened a dialog', async ({
  page,
  request
}) => {
  const panel = await openPanel(page);
  await panel.getByText('Options').click();
  const workers = panel.getByRole('spinbutton', {
    name: 'Workers',
    exact: true
  });
  // The placeholder says what the default is.
  await expect(workers).toHaveAttribute('placeholder', '2 (default)');
  await workers.fill('1');
  const { card } = await launch(panel, request);
  await expect(card.locator('.jp-ClusterCraft-progress')).toHaveText(
    '1 / 1 worker'
  );
  const shutDown = card.getByRole('button', { name: 'Shut down' });
  await shutDown.focus();
  await page.keyboard.press('Enter');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText(
    'Its scheduler and 1 worker stop, and their data is lost.'
  );
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(shutDown).toBeFocused();

  const scale = card.getByRole('button', { name: 'Scale' });
  await scale.focus();
  await page.keyboard.press('Enter');
  // The first field has the focus, not the Scale button.
  await expect(
    dialog.getByRole('spinbutton', { name: 'Workers', exact: true })
  ).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(scale).toBeFocused();
});

test('the Scale dialog keeps a refused value and shows the message by its field', async ({
  page,
  request
}) => {
  const panel = await openPanel(page);
  const { card } = await launch(panel, request);
  await card.getByRole('button', { name: 'Scale' }).click();
  const dialog = page.locator('.jp-Dialog');
  const fixed = dialog.getByRole('radio', { name: 'Fixed number of workers' });
  const adaptive = dialog.getByRole('radio', { name: 'Adaptive' });
  // Drawn as radio buttons, so the chosen mode shows.
  for (const radio of [fixed, adaptive]) {
    expect(await radio.evaluate(e => getComputedStyle(e).appearance)).not.toBe(
      'none'
    );
  }
  await expect(fixed).toBeChecked();
  const minimum = dialog.getByRole('spinbutton', { name: 'Minimum workers' });
  const maximum = dialog.getByRole('spinbutton', { name: 'Maximum workers' });
  await minimum.fill('3');
  await maximum.fill('2');
  await expect(adaptive).toBeChecked();
  await dialog.getByRole('button', { name: 'Scale' }).click();
  await expect(minimum).toHaveAttribute('aria-invalid', 'true');
  const errorId = await minimum.getAttribute('aria-describedby');
  await expect(dialog.locator(`[id="${errorId}"]`)).toHaveText(
    'adapt.minimum must not exceed adapt.maximum'
  );
  await expect(minimum).toHaveValue('3');
  await expect(maximum).toHaveValue('2');
  const [refused] = await listClusters(request);
  expect(refused.adapt).toBeNull();
  await minimum.fill('1');
  await dialog.getByRole('button', { name: 'Scale' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(card.locator('.jp-ClusterCraft-progress')).toContainText(
    'adaptive 1–2'
  );
});

test('a new card below the fold scrolls into view and takes the focus', async ({
  page,
  request
}) => {
  const created = await request.post(API, { data: { n_workers: 1 } });
  expect(created.ok()).toBe(true);
  const panel = await openPanel(page);
  await expect(panel.locator('.jp-ClusterCraft-card')).toHaveCount(1);
  // The open options push the next card below the fold.
  await panel.getByText('Options').click();
  await panel
    .getByRole('spinbutton', { name: 'Workers', exact: true })
    .fill('1');
  await panel.getByRole('button', { name: 'New cluster' }).click();
  const cards = panel.locator('.jp-ClusterCraft-card');
  await expect(cards).toHaveCount(2);
  const card = cards.nth(1);
  await expect(card).toBeFocused();
  await expect(card).toBeInViewport({ ratio: 0.5 });
  expect(
    await panel.evaluate(node =>
      [node, ...node.querySelectorAll('*')].some(e => e.scrollTop > 0)
    )
  ).toBe(true);
});

test('Insert client code without a notebook says so and offers a new one', async ({
  page,
  request
}) => {
  const panel = await openPanel(page);
  const { card } = await launch(panel, request);
  const [cluster] = await listClusters(request);
  await card.getByRole('button', { name: 'Insert client code' }).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('No notebook or console is open');
  await dialog.getByRole('button', { name: 'New notebook' }).click();
  await expect(page.locator('.jp-NotebookPanel')).toHaveCount(1);
  await expect
    .poll(() => page.notebook.getCellTextInput(0))
    .toBe(
      `import clustercraft\nclient = clustercraft.connect("${cluster.name}")`
    );
  expect(await page.notebook.getCellCount()).toBe(1);
});

test('the connection message is readable in the dark theme', async ({
  page
}) => {
  await page.theme.setDarkTheme();
  try {
    // The panel's first request finds no server.
    const clusters = /\/clustercraft\/clusters(\?.*)?$/;
    await page.route(clusters, route => route.abort());
    const panel = await openPanel(page);
    const message = panel.locator('.jp-ClusterCraft-connection');
    await expect(message).toHaveText(
      'The Jupyter server is unreachable. Retrying…'
    );
    const [color, background] = await message.evaluate(e => {
      const style = getComputedStyle(e);
      return [style.color, style.backgroundColor];
    });
    expect(contrast(color, background)).toBeGreaterThanOrEqual(4.5);
    await page.unroute(clusters);
  } finally {
    await page.theme.setLightTheme();
  }
});

test('the card gives the verdict once a task has run; Reset peaks starts afresh', async ({
  page,
  request
}) => {
  await page.notebook.createNew('verdict.ipynb');
  const panel = await openPanel(page);
  const { card } = await launch(panel, request);
  const verdict = card.locator('.jp-ClusterCraft-verdict');
  // Peaks come with the workers' heartbeats, but an idle worker's peak is no
  // run's: the verdict waits for a task to run.
  await expect
    .poll(async () => (await listClusters(request))[0].workers[0]?.memory_peak)
    .toBeGreaterThan(0);
  await expect(verdict.locator('.jp-ClusterCraft-verdictText')).toHaveText(
    'No task has run yet: the verdict on memory comes with the first run.'
  );
  await expect(
    verdict.getByRole('button', { name: 'Reset peaks' })
  ).toBeHidden();
  await expect(verdict).toHaveAttribute('data-level', 'waiting');
  await card.getByRole('button', { name: 'Insert client code' }).click();
  await expect.poll(() => page.notebook.getCellCount()).toBe(2);
  await page.notebook.runCell(1, true);
  await page.notebook.addCell('code', 'client.submit(sum, [1, 2]).result()');
  await page.notebook.runCell(2, true);
  await expect(verdict).toContainText(
    /^Largest worker peak .+ % of its .+ limit; 0 restarts — .+ would be right/,
    { timeout: 30000 }
  );
  const [cluster] = await listClusters(request);
  expect(cluster.memory_restarts).toBe(0);
  expect(cluster.workers.some((w: any) => w.ran_tasks)).toBe(true);
  for (const worker of cluster.workers) {
    expect(worker.memory_peak).toBeGreaterThanOrEqual(worker.memory);
  }
  await card.getByRole('button', { name: 'Reset peaks' }).click();
  // Afresh: nothing has run since.
  await expect(verdict).toHaveAttribute('data-level', 'waiting');
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

test('screenshots at the default width, 400 px and wide, in light and dark themes', async ({
  page,
  request
}) => {
  await page.notebook.createNew('screenshots.ipynb');
  const panel = await openPanel(page);
  const { card } = await launch(panel, request);
  // A run for the verdict to judge: a task that holds 600 MiB for a moment.
  await card.getByRole('button', { name: 'Insert client code' }).click();
  await expect.poll(() => page.notebook.getCellCount()).toBe(2);
  await page.notebook.runCell(1, true);
  await page.notebook.addCell(
    'code',
    'client.submit(lambda: len(b"x" * (600 * 2**20)), pure=False).result()'
  );
  await page.notebook.runCell(2, true);
  await expect(panel.locator('.jp-ClusterCraft-verdict')).toContainText(
    '— fine;',
    { timeout: 30000 }
  );
  // Let memory and CPU readings settle from the heartbeats.
  await page.waitForTimeout(2000);
  const shots: [string, number | null][] = [
    ['panel', null],
    ['panel-400', 400],
    ['panel-wide', 720]
  ];
  const toggle = workerRows(panel)
    .first()
    .locator('.jp-ClusterCraft-workerToggle');
  for (const [name, width] of shots) {
    if (width) {
      await page.sidebar.setWidth(width, 'left');
    }
    // A worker's details at 400 px, as a narrow panel shows the columns it leaves out.
    const open = (await toggle.getAttribute('aria-expanded')) === 'true';
    if (open !== (name === 'panel-400')) {
      await toggle.click();
    }
    // No focus ring or hover left from the clicks.
    await page.mouse.move(900, 500);
    await page.evaluate(() => (document.activeElement as HTMLElement)?.blur());
    await panel.screenshot({ path: path.join(DOCS, `${name}.png`) });
    await page.theme.setDarkTheme();
    await page.waitForTimeout(500);
    await panel.screenshot({ path: path.join(DOCS, `${name}-dark.png`) });
    await page.theme.setLightTheme();
  }
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
