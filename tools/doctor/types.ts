export interface CheckOutcome {
  ok: boolean;
  /** The provider's own code: HTTP status plus its error status/reason, or the network error. */
  code: string;
  /** What it means and what to do, in plain words. */
  explanation: string;
  /** The provider's message, shortened (never contains our credential: it is not in the URL). */
  message?: string;
}
