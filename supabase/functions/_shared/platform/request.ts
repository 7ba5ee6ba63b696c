// Reading a route's inputs through zod in one call each: the body (size-limited JSON), the query
// string and the path parameters. Any failure is a 400 naming each bad field.
import { z } from 'zod';
import { queryObject, readJson, validate, type RouteContext } from './http.ts';

export async function parseBody<S extends z.ZodType>(ctx: RouteContext, schema: S): Promise<z.infer<S>> {
  return validate(schema, await readJson(ctx.req), 'body');
}

export function parseQuery<S extends z.ZodType>(ctx: RouteContext, schema: S): z.infer<S> {
  return validate(schema, queryObject(ctx.url), 'query');
}

export function parseParams<S extends z.ZodType>(ctx: RouteContext, schema: S): z.infer<S> {
  return validate(schema, ctx.params, 'path');
}
