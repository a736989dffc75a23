import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
} from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Why TLS on loopback: kubectl (client-go) never sends a bearer token over plain HTTP, so a
 * token-protected sandbox must serve HTTPS. Each sandbox makes its own self-signed certificate
 * for 127.0.0.1 and localhost (ECDSA P-256) once and keeps it in its data directory, so the
 * kubeconfig written for it stays valid across restarts. node:crypto signs; the certificate is
 * encoded here in DER, which needs no outside tool.
 */

/** A key and a self-signed certificate, both PEM. The certificate is its own CA. */
export interface ServingCertificate {
  keyPem: string;
  certificatePem: string;
}

/** Loads the sandbox's certificate from its data directory, creating it on first start. */
export function servingCertificate(dataDir: string, host: string): ServingCertificate {
  const keyPath = join(dataDir, 'sandbox-tls.key');
  const certificatePath = join(dataDir, 'sandbox-tls.crt');
  if (existsSync(keyPath) && existsSync(certificatePath)) {
    return {
      keyPem: readFileSync(keyPath, 'utf8'),
      certificatePem: readFileSync(certificatePath, 'utf8'),
    };
  }
  const created = selfSignedCertificate(host);
  writeAtomically(keyPath, created.keyPem);
  writeAtomically(certificatePath, created.certificatePem);
  return created;
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Creates a self-signed serving certificate valid for ten years for `host` and localhost. */
export function selfSignedCertificate(host: string): ServingCertificate {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyDer = createPublicKey(createPrivateKey(keyPem)).export({
    type: 'spki',
    format: 'der',
  });

  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(notBefore.getTime() + 10 * 365 * 24 * 60 * 60 * 1000);
  const name = distinguishedName('changeproof sandbox');
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const serial = randomBytes(16);
  // Positive and minimal in DER: top bit clear, first byte never zero.
  serial[0] = (serial[0]! & 0x7f) | 0x40;

  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaWithSha256,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    publicKeyDer,
    tlv(0xa3, sequence(...extensions(host))),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, ecdsaWithSha256, bitString(signature));
  return { keyPem, certificatePem: pem('CERTIFICATE', certificate) };
}

function extensions(host: string): Buffer[] {
  const ipBytes = (address: string): Buffer => Buffer.from(address.split('.').map(Number));
  const altNames = [tlv(0x87, ipBytes('127.0.0.1')), tlv(0x82, Buffer.from('localhost'))];
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) && host !== '127.0.0.1')
    altNames.push(tlv(0x87, ipBytes(host)));
  return [
    extension('2.5.29.19', true, sequence(tlv(0x01, Buffer.from([0xff])))), // basicConstraints: CA
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x02, 0x84]))), // keyUsage: digitalSignature, keyCertSign
    extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
    extension('2.5.29.17', false, sequence(...altNames)), // subjectAltName
  ];
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  const flag = critical ? [tlv(0x01, Buffer.from([0xff]))] : [];
  return sequence(oid(id), ...flag, tlv(0x04, value));
}

function distinguishedName(commonName: string): Buffer {
  return sequence(tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName)))));
}

// DER: tag, length, content.
function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else if (length < 0x100) header = [tag, 0x81, length];
  else header = [tag, 0x82, length >> 8, length & 0xff];
  return Buffer.concat([Buffer.from(header), content]);
}

function sequence(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function integer(value: Buffer): Buffer {
  return tlv(0x02, value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

function bitString(value: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), value]));
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first! * 40 + second!];
  for (const part of rest) {
    const chunk = [part & 0x7f];
    for (let value = part >> 7; value > 0; value >>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

// UTCTime until 2049, GeneralizedTime after, as RFC 5280 requires.
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
