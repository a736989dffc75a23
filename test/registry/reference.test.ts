import { describe, expect, it } from 'vitest';
import {
  formatImageReference,
  isValidRepositoryName,
  isValidTag,
  parseImageReference,
} from '../../src/supply-chain/oci/reference.ts';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('parseImageReference', () => {
  it('splits host:port, a nested repository, a tag and a digest', () => {
    expect(parseImageReference(`127.0.0.1:5000/shop/cart:1.2.3@${digest}`)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'shop/cart',
      tag: '1.2.3',
      digest,
    });
  });

  it('reads a digest-only reference and a tag-only reference', () => {
    expect(parseImageReference(`registry.example.com/app@${digest}`)).toEqual({
      registry: 'registry.example.com',
      repository: 'app',
      digest,
    });
    expect(parseImageReference('localhost/app:v1')).toEqual({
      registry: 'localhost',
      repository: 'app',
      tag: 'v1',
    });
  });

  it('gives a reference without a host the Docker Hub defaults', () => {
    expect(parseImageReference('nginx:1.27')).toEqual({
      registry: 'docker.io',
      repository: 'library/nginx',
      tag: '1.27',
    });
    expect(parseImageReference('team/app')).toEqual({
      registry: 'docker.io',
      repository: 'team/app',
    });
  });

  it.each([
    ['an uppercase repository', '127.0.0.1:5000/Shop/cart:v1'],
    ['a tag starting with a dot', '127.0.0.1:5000/shop/cart:.v1'],
    ['a tag longer than 128 characters', `127.0.0.1:5000/shop/cart:${'a'.repeat(129)}`],
    ['a short digest', '127.0.0.1:5000/shop/cart@sha256:abc'],
    ['an uppercase digest', `127.0.0.1:5000/shop/cart@sha256:${'AB'.repeat(32)}`],
    ['two digests', `127.0.0.1:5000/shop/cart@${digest}@${digest}`],
    ['an empty reference', ''],
    ['a doubled separator', '127.0.0.1:5000/shop//cart'],
  ])('refuses %s with REFERENCE_INVALID', (_why, text) => {
    expect(() => parseImageReference(text)).toThrow(
      expect.objectContaining({ code: 'REFERENCE_INVALID', category: 'usage' }),
    );
  });

  it('formats back to the text it parsed', () => {
    const text = `127.0.0.1:5000/shop/cart:abc@${digest}`;
    expect(formatImageReference(parseImageReference(text))).toBe(text);
  });
});

describe('names and tags', () => {
  it('accepts the separators the distribution spec allows', () => {
    for (const name of ['a', 'a.b', 'a_b', 'a__b', 'a---b', 'team/app-1', 'x/y/z']) {
      expect(isValidRepositoryName(name)).toBe(true);
    }
    for (const name of ['A', 'a_', '_a', 'a___b', 'a/', '/a', 'a..b', 'x'.repeat(256)]) {
      expect(isValidRepositoryName(name)).toBe(false);
    }
  });

  it('accepts tags of up to 128 characters not starting with . or -', () => {
    expect(isValidTag('_v1.2-rc')).toBe(true);
    expect(isValidTag('a'.repeat(128))).toBe(true);
    expect(isValidTag('-v1')).toBe(false);
    expect(isValidTag('v1:2')).toBe(false);
  });
});
