// What the fake Gemini remembers: the behaviour tests asked for, its settings, and the requests
// it received in full (the shared request log keeps 64 KB of a body; prompts built from a whole
// channel's history are bigger, and tests assert on them).

export const GEMINI_MODES = ['normal', 'safety', 'prompt_blocked', 'malformed', 'schema_mismatch', 'max_tokens'] as const;
export type GeminiMode = (typeof GEMINI_MODES)[number];

export interface GeminiRequestRecord {
  seq: number;
  at: string;
  model: string;
  method: string; // generateContent | streamGenerateContent | countTokens
  stream: boolean;
  body: unknown; // as received (parsed JSON)
  prompt: string; // text of every turn, joined by newlines
  system: string; // text of systemInstruction
  mode: GeminiMode | null; // behaviour applied; null when the request was rejected first
  status?: number;
}

const REQUEST_LOG_CAPACITY = 200;

export class GeminiState {
  /** `model`: only requests for that model get the behaviour (tests sharing a stack stay apart). */
  behaviour: { mode: GeminiMode; remaining: number | null; model: string | null } = { mode: 'normal', remaining: null, model: null };
  /** null: any non-empty key is accepted. */
  apiKeys: string[] | null = null;
  streamChunkDelayMs = 0;
  requests: GeminiRequestRecord[] = [];
  private seq = 0;

  setBehaviour(mode: GeminiMode, times?: number, model?: string) {
    this.behaviour = { mode, remaining: times ?? null, model: model ?? null };
  }

  /** The behaviour for the next generation request; a `times` budget runs down, then normal. */
  takeMode(model: string): GeminiMode {
    const b = this.behaviour;
    if (b.mode === 'normal' || (b.model !== null && b.model !== model)) return 'normal';
    if (b.remaining !== null) {
      b.remaining--;
      if (b.remaining <= 0) this.behaviour = { mode: 'normal', remaining: null, model: null };
    }
    return b.mode;
  }

  record(entry: Omit<GeminiRequestRecord, 'seq' | 'at'>): GeminiRequestRecord {
    const full: GeminiRequestRecord = { seq: ++this.seq, at: new Date().toISOString(), ...entry };
    this.requests.push(full);
    if (this.requests.length > REQUEST_LOG_CAPACITY) this.requests.splice(0, this.requests.length - REQUEST_LOG_CAPACITY);
    return full;
  }

  reset() {
    this.behaviour = { mode: 'normal', remaining: null, model: null };
    this.apiKeys = null;
    this.streamChunkDelayMs = 0;
    this.requests = [];
  }
}
