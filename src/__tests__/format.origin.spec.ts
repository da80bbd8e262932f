import { nullTranslator } from '@jupyterlab/translation';

import { originLabel } from '../format';
import { cluster } from './fixtures';

const trans = nullTranslator.load('clustercraft');

describe('originLabel', () => {
  it('says nothing of the panel’s own clusters', () => {
    expect(originLabel(cluster('a'), trans)).toBe('');
    expect(originLabel(cluster('a', { origin: 'panel' }), trans)).toBe('');
  });

  it('names the notebook of a kernel’s cluster, or the kernel’s pid', () => {
    const kernel = {
      id: 'k',
      pid: 4242,
      notebook: '/home/me/work/analysis.ipynb'
    };
    expect(originLabel(cluster('a', { origin: 'kernel', kernel }), trans)).toBe(
      'from kernel: analysis.ipynb'
    );
    const console = { ...kernel, notebook: null };
    expect(
      originLabel(cluster('a', { origin: 'kernel', kernel: console }), trans)
    ).toBe('from kernel 4242');
  });

  it('marks a scheduler adopted by address', () => {
    expect(originLabel(cluster('a', { origin: 'address' }), trans)).toBe(
      'adopted by address'
    );
  });
});
