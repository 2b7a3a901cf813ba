import { describe, expect, it } from 'vitest';
import {
  decryptSecret,
  encryptSecret,
  groupedSecret,
  matchTotpStep,
  newRecoveryCodes,
  newTotpSecret,
  readSecondFactor,
  recoveryCodeHash,
  stepAt,
  totpCodeAt,
  totpUri,
  twoFactorKey,
} from '../../src/services/people/two-factor-rules.js';

const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890", RFC 6238 appendix B (SHA-1)
const at = (seconds: number) => new Date(seconds * 1000);
const USER = '00000000-0000-4000-8000-000000000001';

describe('TOTP codes', () => {
  it('match the RFC 6238 test vectors (last six digits)', () => {
    expect(totpCodeAt(RFC_SECRET, at(59))).toBe('287082');
    expect(totpCodeAt(RFC_SECRET, at(1111111109))).toBe('081804');
    expect(totpCodeAt(RFC_SECRET, at(2000000000))).toBe('279037');
  });

  it('accept the code of now and of one step either side, with the step it belongs to, and nothing further', () => {
    const now = at(1111111109);
    const step = stepAt(now);
    expect(matchTotpStep(RFC_SECRET, totpCodeAt(RFC_SECRET, now), now)).toBe(step);
    expect(matchTotpStep(RFC_SECRET, totpCodeAt(RFC_SECRET, at(1111111109 - 30)), now)).toBe(step - 1);
    expect(matchTotpStep(RFC_SECRET, totpCodeAt(RFC_SECRET, at(1111111109 + 30)), now)).toBe(step + 1);
    expect(matchTotpStep(RFC_SECRET, totpCodeAt(RFC_SECRET, at(1111111109 - 90)), now)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, '12345', now)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, 'abcdef', now)).toBeNull();
  });

  it('give a new secret of 160 bits in base32, and an otpauth address an app reads', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(secret);
    const uri = totpUri(secret, 'ana@example.test');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Portico:ana%40example\.test\?/);
    expect(uri).toContain(`secret=${secret}`);
    expect(uri).toContain('issuer=Portico');
    expect(groupedSecret('ABCDEFGHIJ')).toBe('ABCD EFGH IJ');
  });
});

describe('the one code field', () => {
  it('reads six digits as a code from the app, spaces allowed', () => {
    expect(readSecondFactor(' 123 456 ')).toEqual({ kind: 'totp', code: '123456' });
  });

  it('reads a recovery code in any case, with or without its dash', () => {
    expect(readSecondFactor('ABCD-EFGH')).toEqual({ kind: 'recovery', code: 'abcdefgh' });
    expect(readSecondFactor('abcdefgh')).toEqual({ kind: 'recovery', code: 'abcdefgh' });
  });

  it('reads anything else as neither', () => {
    for (const text of ['', '12345', '1234567', 'abc-defgh', "x' or 1=1 --", 'a'.repeat(100)])
      expect(readSecondFactor(text)).toBeNull();
  });
});

describe('recovery codes', () => {
  it('are ten groups like abcd-efgh, without look-alike characters', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    for (const c of codes) expect(c).toMatch(/^[a-km-np-z2-9]{4}-[a-km-np-z2-9]{4}$/);
    expect(new Set(codes).size).toBe(10);
  });

  it('are stored as keyed hashes bound to their login, the same however typed', () => {
    const key = twoFactorKey('one secret long enough for the test');
    const h = recoveryCodeHash(key, USER, 'abcd-efgh');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(recoveryCodeHash(key, USER, 'ABCDEFGH')).toBe(h);
    expect(recoveryCodeHash(key, '00000000-0000-4000-8000-000000000002', 'abcd-efgh')).not.toBe(h);
    expect(recoveryCodeHash(twoFactorKey('another secret'), USER, 'abcd-efgh')).not.toBe(h);
  });
});

describe('the stored secret', () => {
  it('is encrypted, reads back only under the same key and for the same login', () => {
    const key = twoFactorKey('one secret long enough for the test');
    const stored = encryptSecret(key, USER, RFC_SECRET);
    expect(stored).not.toContain(RFC_SECRET);
    expect(encryptSecret(key, USER, RFC_SECRET)).not.toBe(stored);
    expect(decryptSecret(key, USER, stored)).toBe(RFC_SECRET);
    expect(() => decryptSecret(twoFactorKey('another secret'), USER, stored)).toThrow();
    expect(() => decryptSecret(key, '00000000-0000-4000-8000-000000000002', stored)).toThrow();
    expect(() => decryptSecret(key, USER, 'garbage')).toThrow();
  });
});
