// Types of notify-failure.mjs, which stays plain JavaScript so it runs without an install.
export function failureMessage(what: string, runUrl: string | undefined): { text: string };
