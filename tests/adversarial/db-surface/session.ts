// One database session for the whole walk, inside one transaction that is rolled back at the
// end, so the walk leaves nothing behind. Each probe runs in a savepoint as a member, exactly as
// PostgREST runs a request (`set local role authenticated` and the JWT claims in
// request.jwt.claims), and is rolled back before the next one.
import postgres from 'postgres';

export interface Actor {
  name: string;
  id: string;
  email: string;
}

export type Outcome = { ok: true; rows: number; after: Snapshot } | { ok: false; code: string; message: string };

/** Rows of the tables the oracles judge, as JSON, read with the superuser's rights. */
export type Snapshot = Record<string, Record<string, unknown>[]>;

/** SQL literal of a string (standard_conforming_strings is on, so only quotes need doubling). */
export function lit(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export class Session {
  private constructor(
    private readonly sql: postgres.Sql,
    private readonly conn: postgres.ReservedSql,
  ) {}

  static async open(url: string): Promise<Session> {
    const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
    const conn = await sql.reserve();
    await conn.unsafe('begin');
    return new Session(sql, conn);
  }

  async close(): Promise<void> {
    try {
      await this.conn.unsafe('rollback');
    } finally {
      this.conn.release();
      await this.sql.end({ timeout: 5 });
    }
  }

  /** As the superuser, outside any probe. */
  async query<T = Record<string, unknown>>(statement: string): Promise<T[]> {
    return (await this.conn.unsafe(statement)) as unknown as T[];
  }

  /**
   * Runs `statement` as `actor` and undoes it. On success, `snapshot` reads the rows as they
   * were right after it (before the rollback), so the oracles can judge what was written.
   */
  async probe(actor: Actor, statement: string, snapshot: (s: Session) => Promise<Snapshot>): Promise<Outcome> {
    await this.conn.unsafe('savepoint probe');
    try {
      await this.conn.unsafe(`set local statement_timeout = '20s'`);
      await this.conn.unsafe('set local role authenticated');
      const claims = {
        sub: actor.id,
        role: 'authenticated',
        aud: 'authenticated',
        email: actor.email,
        app_metadata: {},
        user_metadata: {},
      };
      await this.conn.unsafe(`select set_config('request.jwt.claims', ${lit(JSON.stringify(claims))}, true)`);
      const result = await this.conn.unsafe(statement);
      await this.conn.unsafe('reset role');
      return { ok: true, rows: result.count ?? result.length, after: await snapshot(this) };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return { ok: false, code: e.code ?? 'client', message: String(e.message ?? err).slice(0, 300) };
    } finally {
      await this.conn.unsafe('rollback to savepoint probe');
    }
  }
}

/**
 * Errors a caller can act on: the request was refused for what it asked, and the API maps each of
 * these to a 4xx (supabase/functions/_shared/platform/pg-errors.ts). Anything else (an internal error, a
 * limit of Postgres, a timeout) means the database let a bad value get too far.
 */
export function isCleanRefusal(code: string): boolean {
  return /^(2[23][0-9A-Z]{3}|42501|28000|CE[A-Z]\d{2}|40001|40P01|34000)$/.test(code);
}
