/**
 * What a partner may see of a phone number: four dots and its last four digits (`••••1234`), so a
 * number can be recognised but not dialled. Nothing else shows, not its length, its country code or
 * a leading +. A number of four digits or fewer (a short code, an emergency number) would show whole,
 * so it shows as the dots alone; so does a sender name without digits.
 */
export const MASK = '••••';

export function maskNumber(value: string | null | undefined): string {
  const digits = (value ?? '').replace(/\D/g, '');
  return digits.length > 4 ? MASK + digits.slice(-4) : MASK;
}
