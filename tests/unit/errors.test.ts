import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/errors.js';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('a database that cannot be reached', () => {
  it('is told by PostgreSQL and PgBouncer codes and by a dropped connection, so the answer is 503', () => {
    expect(isDatabaseUnavailable(pgError('57P01', 'terminating connection due to administrator command'))).toBe(true);
    expect(isDatabaseUnavailable(pgError('08P01', 'server login has been failing, try again later'))).toBe(true);
    expect(isDatabaseUnavailable(pgError('08P01', 'query_wait_timeout'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('is not any other database error, which stays a 500', () => {
    expect(isDatabaseUnavailable(pgError('23505', 'duplicate key value violates unique constraint'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('something else'))).toBe(false);
  });
});
