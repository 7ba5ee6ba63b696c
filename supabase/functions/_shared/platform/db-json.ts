// A jsonb parameter for postgres.js: a JSON string would be sent as a JSON *string* value
// (postgres.js serialises every json-typed parameter itself), so documents go through sql.json().
import { sql } from './db.ts';

export function asJson(value: unknown) {
  return sql().json(value as Parameters<ReturnType<typeof sql>['json']>[0]);
}
