// Google OAuth scopes the fake YouTube checks, grouped by what they allow.
const AUTH = 'https://www.googleapis.com/auth/';

export const SCOPES = {
  youtubeReadonly: `${AUTH}youtube.readonly`,
  youtube: `${AUTH}youtube`,
  youtubeForceSsl: `${AUTH}youtube.force-ssl`,
  youtubeUpload: `${AUTH}youtube.upload`,
  youtubePartner: `${AUTH}youtubepartner`,
  analyticsReadonly: `${AUTH}yt-analytics.readonly`,
  analyticsMonetaryReadonly: `${AUTH}yt-analytics-monetary.readonly`,
} as const;

/** Any of these lets a token read channels, playlists and videos. */
export const READ_SCOPES = [SCOPES.youtubeReadonly, SCOPES.youtube, SCOPES.youtubeForceSsl, SCOPES.youtubePartner];
/** Any of these lets a token upload (videos.insert). */
export const UPLOAD_SCOPES = [SCOPES.youtubeUpload, SCOPES.youtube, SCOPES.youtubeForceSsl];
/** Any of these lets a token read YouTube Analytics reports. */
export const ANALYTICS_SCOPES = [SCOPES.analyticsReadonly, SCOPES.analyticsMonetaryReadonly];

/** What tokens made through the control API get unless a test asks for less. */
export const DEFAULT_GRANTED_SCOPES = [SCOPES.youtubeReadonly, SCOPES.youtubeUpload, SCOPES.analyticsReadonly];
