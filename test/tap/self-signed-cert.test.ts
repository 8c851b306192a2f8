import { X509Certificate, createPrivateKey } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { generateSelfSignedCert } from '../../src/tap/self-signed-cert.js';

describe('generateSelfSignedCert', () => {
  const { certPem, keyPem } = generateSelfSignedCert();
  const cert = new X509Certificate(certPem);

  test('a CA certificate for 127.0.0.1 and localhost, signed by its own key', () => {
    expect(cert.subject).toBe('CN=execscope-lab');
    expect(cert.issuer).toBe('CN=execscope-lab');
    expect(cert.ca).toBe(true);
    expect(cert.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const now = Date.now();
    expect(new Date(cert.validFrom).getTime()).toBeLessThan(now);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(now + 300 * 86400_000);
  });

  test('a TLS client trusting it as CA verifies the server at 127.0.0.1', async () => {
    const server = tls.createServer({ key: keyPem, cert: certPem }, (s) => s.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const c = tls.connect({ host: '127.0.0.1', port, ca: certPem }, () => c.on('data', (d) => resolve(String(d))));
        c.on('error', reject);
      });
      expect(reply).toBe('ok');
    } finally {
      server.close();
    }
  });

  test('fresh keys and serial numbers each time', () => {
    const other = new X509Certificate(generateSelfSignedCert().certPem);
    expect(other.serialNumber).not.toBe(cert.serialNumber);
    expect(other.fingerprint256).not.toBe(cert.fingerprint256);
  });

  test('every certificate is strict DER, whatever its random serial (a needless leading 0 is "illegal padding" to OpenSSL)', () => {
    // About one random serial in 256 starts with a zero byte: 1500 certificates all but surely meet one.
    for (let i = 0; i < 1500; i++) {
      const fresh = generateSelfSignedCert();
      expect(() => tls.createSecureContext({ key: fresh.keyPem, cert: fresh.certPem })).not.toThrow();
    }
  });
});
