// How dates and numbers are shown: the locale and time zone of the user's profile once it is
// loaded, the browser's until then (or when the profile cannot be read).
import { browserTimeZone, safeLocale, type DisplayPrefs } from '$lib/format.ts';
import type { Profile } from '$lib/tenancy.ts';

function browserLocale(): string {
  return safeLocale(typeof navigator === 'undefined' ? 'en' : navigator.language);
}

class Prefs implements DisplayPrefs {
  locale = $state(browserLocale());
  timeZone = $state(browserTimeZone());

  fromProfile(profile: Pick<Profile, 'locale' | 'timezone'>) {
    this.locale = safeLocale(profile.locale);
    this.timeZone = profile.timezone || browserTimeZone();
  }

  reset() {
    this.locale = browserLocale();
    this.timeZone = browserTimeZone();
  }
}

export const prefs = new Prefs();
