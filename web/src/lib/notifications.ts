// Email notification settings and the unsubscribe link, as the notifications function answers.
import * as z from 'zod/mini';
import { callFunction, type FunctionsInvoker } from './api.ts';

export const CATEGORIES = [
  { key: 'upload_published', label: 'Upload published', hint: 'A scheduled video is live on YouTube.' },
  { key: 'upload_problems', label: 'Upload problems', hint: 'An upload failed, or waits because the YouTube quota is used up.' },
  { key: 'youtube_reauth', label: 'YouTube access expired', hint: 'A channel must be reconnected before it can sync or upload.' },
  { key: 'render_finished', label: 'Render finished', hint: 'A video render is ready, or it failed.' },
  { key: 'alert_digest', label: 'Daily alert digest', hint: 'Platform administrators only: the alerts of the last day.' },
] as const;

export type CategoryKey = (typeof CATEGORIES)[number]['key'];
export type Preferences = Record<CategoryKey, boolean>;

const PreferencesShape = z.object({
  upload_published: z.boolean(),
  upload_problems: z.boolean(),
  youtube_reauth: z.boolean(),
  render_finished: z.boolean(),
  alert_digest: z.boolean(),
});
const PreferencesAnswer = z.object({ preferences: PreferencesShape });
const Unsubscribed = z.object({ unsubscribed: z.boolean(), category: z.string() });

export async function getPreferences(client: FunctionsInvoker): Promise<Preferences> {
  return (await callFunction(client, 'notifications/preferences', { schema: PreferencesAnswer })).preferences;
}

export async function savePreferences(client: FunctionsInvoker, preferences: Preferences): Promise<Preferences> {
  return (await callFunction(client, 'notifications/preferences', { method: 'PUT', body: { ...preferences }, schema: PreferencesAnswer }))
    .preferences;
}

/** Works signed out: the token in the link is the proof. */
export async function unsubscribe(client: FunctionsInvoker, token: string): Promise<string> {
  return (await callFunction(client, 'notifications/unsubscribe', { method: 'POST', body: { token }, schema: Unsubscribed })).category;
}

export function categoryLabel(key: string): string {
  return CATEGORIES.find((c) => c.key === key)?.label ?? key;
}
