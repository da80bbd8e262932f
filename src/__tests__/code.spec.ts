import { clientCode } from '../code';

describe('clientCode', () => {
  it('reaches a TLS cluster with its own credentials, by name', () => {
    expect(
      clientCode({ name: 'survey "A"', scheduler_address: 'tls://127.0.0.1:1' })
    ).toBe(
      'import clustercraft\nclient = clustercraft.connect("survey \\"A\\"")'
    );
  });

  it('reaches any other scheduler by its address', () => {
    expect(
      clientCode({ name: 'x', scheduler_address: 'tcp://10.0.0.1:8786' })
    ).toBe(
      'from dask.distributed import Client\nclient = Client("tcp://10.0.0.1:8786")'
    );
  });
});
