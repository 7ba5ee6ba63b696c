// youtube-oauth: connect a YouTube channel to a workspace with Google OAuth, and disconnect it.
//   POST /start       { workspace_id }  editor or owner → { url, expires_at }
//   GET  /callback    ?code&state       Google's redirect (no JWT) → 302 to the web app (code and state in the fragment)
//   POST /complete    { state, code }   the user who started → channel connected (anyone else 403)
//   POST /disconnect  { channel_id }    owner → revoked at Google, tokens deleted
// verify_jwt is off for this function (supabase/config.toml) because Google's redirect carries no
// JWT, so /start, /complete and /disconnect check the caller's token themselves (requireUser).
import { createHandler } from '../_shared/platform/handler.ts';
import { Router } from '../_shared/platform/http.ts';
import { callback } from './callback.ts';
import { complete } from './complete.ts';
import { disconnect } from './disconnect.ts';
import { start } from './start.ts';

export const router = new Router('youtube-oauth')
  .on('POST', '/start', start)
  .on('GET', '/callback', callback)
  .on('POST', '/complete', complete)
  .on('POST', '/disconnect', disconnect);

export default createHandler(router);
