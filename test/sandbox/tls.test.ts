import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../src/embedded/sandbox/tls.ts';

describe('the sandbox serving certificate', () => {
  it('is a valid self-signed certificate for 127.0.0.1 every time', () => {
    // Many runs: a serial number or signature encoded wrongly fails only now and then.
    for (let run = 0; run < 300; run++) {
      const { certificatePem } = selfSignedCertificate('127.0.0.1');
      const certificate = new X509Certificate(certificatePem);
      expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(certificate.checkHost('localhost')).toBe('localhost');
      expect(certificate.verify(certificate.publicKey)).toBe(true);
    }
  });
});
