import { describe, expect, it } from 'vitest';
import { checkDebitLimit, checkMovement, checkNumberRange } from '../../src/services/billing/rules.js';
import { formatMoney, minorDigits, parseAmount, toDecimalString } from '../../src/services/billing/money.js';

describe('money in minor units', () => {
  it('knows how many decimals a currency has', () => {
    expect([minorDigits('GBP'), minorDigits('JPY'), minorDigits('BHD')]).toEqual([2, 0, 3]);
  });

  it('writes minor units as an exact decimal, negative ones included', () => {
    expect(toDecimalString(123456, 'GBP')).toBe('1234.56');
    expect(toDecimalString(-5, 'EUR')).toBe('-0.05');
    expect(toDecimalString(1234, 'JPY')).toBe('1234');
    expect(toDecimalString(9007199254740993n, 'EUR')).toBe('90071992547409.93');
  });

  it('formats for the viewer’s locale with the currency', () => {
    expect(formatMoney(320825, 'GBP', 'en-GB')).toBe('£3,208.25');
    expect(formatMoney(320825, 'GBP', 'de-DE')).toMatch(/^3\.208,25\s£$/);
    expect(formatMoney(1500, 'JPY', 'ja-JP')).toMatch(/1,500/);
    expect(formatMoney(100, 'EUR', 'not a locale')).toBe('€1.00');
    expect(formatMoney(500, 'JPY')).toBe('JP¥500');
  });

  it('reads what staff type, refusing more decimals than the currency has', () => {
    expect(parseAmount('12.5', 'GBP')).toBe(1250n);
    expect(parseAmount(' 1,250.00 ', 'GBP')).toBe(125000n);
    expect(parseAmount('12.345', 'GBP')).toBeNull();
    expect(parseAmount('12.3', 'JPY')).toBeNull();
    expect(parseAmount('1e3', 'GBP')).toBeNull();
    expect(parseAmount('', 'GBP')).toBeNull();
  });
});

describe('billing forms', () => {
  it('accepts a positive payment and refuses zero, negatives and unknown kinds', () => {
    expect(checkMovement({ kind: 'payment', amount: '10', reference: ' BACS ' }, 'GBP').value).toEqual({
      kind: 'payment',
      amountMinor: 1000n,
      reference: 'BACS',
    });
    expect(checkMovement({ kind: 'payment', amount: '0', reference: '' }, 'GBP').errors.amount).toBe(
      'Enter an amount above zero.',
    );
    expect(checkMovement({ kind: 'payment', amount: '-3', reference: '' }, 'GBP').errors.amount).toBe(
      'Enter an amount above zero.',
    );
    expect(checkMovement({ kind: 'refund', amount: '3', reference: '' }, 'GBP').errors.kind).toBeDefined();
  });

  it('takes a debit limit of zero or more', () => {
    expect(checkDebitLimit('0', 'GBP').value).toBe(0n);
    expect(checkDebitLimit('-1', 'GBP').errors.debitLimit).toBeDefined();
  });

  it('checks the number range: last not below first, a block no larger than the range', () => {
    expect(checkNumberRange({ firstNumber: '100', lastNumber: '199', blockSize: '10' }).value).toEqual({
      firstNumber: 100n,
      lastNumber: 199n,
      blockSize: 10,
    });
    expect(
      checkNumberRange({ firstNumber: '200', lastNumber: '199', blockSize: '10' }).errors.lastNumber,
    ).toBeDefined();
    expect(checkNumberRange({ firstNumber: '100', lastNumber: '104', blockSize: '10' }).errors.blockSize).toBeDefined();
    expect(checkNumberRange({ firstNumber: 'x', lastNumber: '', blockSize: '0' }).errors).toHaveProperty('firstNumber');
  });
});
