// The fake model: deterministic text that reads like an answer to the prompt. With a response
// schema it writes JSON that matches the schema (every required property, the right types, enum
// values from the list, arrays as long as the prompt asked for within minItems/maxItems), with
// strings chosen by what their property is called (a title reads like a title, a script like a
// script) and made of words from the prompt, so tests can see the prompt reached the model.
import { hashString, Prng } from '../core/random.ts';
import type { ResponseSchema } from './request.ts';

const STOPWORDS = new Set(
  (
    'about above after again against also among because been before being below between both could does doing down during each ' +
    'from further have having here into itself just more most must only other ought over same should some such than that their ' +
    'theirs them then there these they this those through under until very were what when where which while whom with would your ' +
    'yours make made like want need give write create generate return json list each every using based following format please ' +
    'output answer response exactly number count items ideas titles title script scripts description descriptions tags video videos ' +
    'short shorts long form tone language brief topic target style channel youtube views performed performing best top include'
  ).split(' '),
);

export interface PromptFacts {
  words: string[]; // distinctive words in order of first appearance
  subject: string; // a phrase to write about
  count: number | undefined; // "5 ideas", "exactly 3", "count: 4"
}

export function readPrompt(prompt: string): PromptFacts {
  const words: string[] = [];
  const seen = new Set<string>();
  for (const m of prompt.toLowerCase().matchAll(/[a-z][a-z'-]{3,}/g)) {
    const w = m[0].replace(/['-]+$/, '');
    if (w.length < 4 || STOPWORDS.has(w) || seen.has(w)) continue;
    seen.add(w);
    words.push(w);
  }
  const subjectMatch = /\b(?:topic|subject|about|brief|theme)\s*[:=-]?\s*["“']?([^"”'\n.;]{3,60})/i.exec(prompt);
  const subject = subjectMatch ? subjectMatch[1]!.trim() : words.slice(0, 2).join(' ') || 'your next video';
  // A terse prompt still needs a few words to vary sentences with.
  for (const filler of ['timing', 'practice', 'details']) if (words.length < 3) words.push(filler);
  return { words, subject, count: requestedCount(prompt) };
}

const COUNT_NOUNS =
  '(?:idea|title|script|description|tag|hook|item|option|variation|variant|suggestion|prompt|thumbnail|concept|angle|outline|post|video)s?';

function requestedCount(prompt: string): number | undefined {
  const patterns = [
    new RegExp(`\\b(\\d{1,2})\\s+(?:[a-z-]+\\s+){0,3}(?:${COUNT_NOUNS})\\b`, 'i'),
    /\b(?:count|exactly|number of [a-z]+)\s*[:=]?\s*(\d{1,2})\b/i,
  ];
  for (const re of patterns) {
    const m = re.exec(prompt);
    if (m) return Number(m[1]);
  }
  return undefined;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function titleCase(s: string): string {
  return s.replace(/\b[a-z]/g, (c) => c.toUpperCase());
}

const TITLES = [
  '{N} {Subject} Mistakes Everyone Makes',
  'I Tried {subject} for {N} Days',
  'The Truth About {Subject}',
  'Why {Subject} Works (and When It Does Not)',
  '{Subject} in {N} Minutes: The {Word} Method',
  'Stop Doing This With {Subject}',
  'The {Word} Trick Nobody Tells You About {Subject}',
  '{Subject} on a Budget: {N} Ideas That Work',
  'What {N} Years of {Subject} Taught Me',
  '{Word} vs {Word2}: The {Subject} Showdown',
];

const OPENERS = [
  'Most people get {subject} wrong, and it starts with {word}.',
  'Here is the thing about {subject} nobody says out loud.',
  'You have probably tried {word} before. This time, try it differently.',
  'In the next minute you will learn why {word} changes everything about {subject}.',
  'I tested {subject} so you do not have to.',
];
const BODY = [
  'Start with {word}: it sets up everything that follows.',
  'The difference between good and great {subject} is usually {word}.',
  'Keep {word} simple, then add {word2} once the basics feel easy.',
  'Viewers stay when they see {word} early, so show it in the first seconds.',
  'A quick test: try {word} and {word2} side by side and compare.',
  'Most of the results come from {word}, not from expensive gear.',
  'If you only remember one thing, remember {word}.',
  'Here is the step people skip: checking {word} before moving on.',
  'Then comes {word2}, which is where the real progress happens.',
  'Small changes to {word} add up faster than you would think.',
];
const CLOSERS = [
  'Try it this week and tell me in the comments how it went.',
  'Subscribe for the next part, where we take {subject} further.',
  'Save this for later and share it with someone who needs it.',
];

class Writer {
  constructor(
    private readonly rng: Prng,
    private readonly facts: PromptFacts,
  ) {}

  word(): string {
    return this.rng.pick(this.facts.words);
  }

  fill(template: string): string {
    const word = this.word();
    let word2 = this.word();
    if (word2 === word && this.facts.words.length > 1) word2 = this.facts.words.find((w) => w !== word)!;
    return template
      .replaceAll('{Subject}', titleCase(this.facts.subject))
      .replaceAll('{subject}', this.facts.subject)
      .replaceAll('{Word}', cap(word))
      .replaceAll('{Word2}', cap(word2))
      .replaceAll('{word}', word)
      .replaceAll('{word2}', word2)
      .replaceAll('{N}', String(this.rng.pick([3, 5, 7, 10, 30])));
  }

  title(): string {
    return this.fill(this.rng.pick(TITLES)).slice(0, 95);
  }

  sentence(): string {
    return this.fill(this.rng.pick(BODY));
  }

  sentences(n: number): string {
    return Array.from({ length: n }, () => this.sentence()).join(' ');
  }

  script(): string {
    const paragraphs = [this.fill(this.rng.pick(OPENERS))];
    const n = this.rng.int(3, 6);
    for (let i = 0; i < n; i++) paragraphs.push(this.sentences(this.rng.int(2, 4)));
    paragraphs.push(this.fill(this.rng.pick(CLOSERS)));
    return paragraphs.join('\n\n');
  }

  description(): string {
    return `${this.fill(this.rng.pick(OPENERS))} ${this.sentences(2)}`;
  }

  tag(): string {
    return this.rng.chance(0.3) ? this.facts.subject.toLowerCase() : this.word();
  }

  imagePrompt(): string {
    return this.fill('Close-up of {word} on a bright background, bold text "{Word}", high contrast, expressive face, 16:9');
  }

  /** A string for a property, by what the property is called. */
  stringFor(name: string, s: ResponseSchema): string {
    const n = name.toLowerCase();
    if (s.format === 'date-time' || /(^|_)(date|time|at)$|timestamp|date/.test(n))
      return new Date(Date.UTC(2026, 0, 1) + this.rng.int(0, 364) * 86_400_000).toISOString();
    if (/url|link|href/.test(n)) return `https://example.com/${this.word()}`;
    if (/lang/.test(n)) return 'en';
    if (/(^|_)id$|slug|key$/.test(n)) return `${this.word()}-${this.rng.int(100, 999)}`;
    if (/title|headline|name/.test(n)) return this.title();
    if (/script|body|content|transcript|narration|outline|text/.test(n)) return this.script();
    if (/desc|summary|synopsis|overview/.test(n)) return this.description();
    if (/tag|keyword|hashtag/.test(n)) return this.tag();
    if (/thumbnail|image|visual|prompt/.test(n)) return this.imagePrompt();
    if (/hook|intro|opening|cta|call/.test(n)) return this.fill(this.rng.pick(OPENERS));
    return this.sentence();
  }
}

function intFor(name: string, s: ResponseSchema, rng: Prng): number {
  const n = name.toLowerCase();
  let lo = 1;
  let hi = 100;
  if (/duration|seconds|length/.test(n)) [lo, hi] = [15, 600];
  else if (/score|rating/.test(n)) [lo, hi] = [1, 10];
  else if (/year/.test(n)) [lo, hi] = [2024, 2027];
  if (s.minimum !== undefined) lo = Math.ceil(s.minimum);
  if (s.maximum !== undefined) hi = Math.floor(s.maximum);
  if (hi < lo) hi = lo;
  return rng.int(lo, hi);
}

function numberFor(s: ResponseSchema, rng: Prng): number {
  const lo = s.minimum ?? 0;
  const hi = s.maximum ?? Math.max(lo + 1, 1);
  return Math.round(rng.between(lo, hi) * 100) / 100;
}

// Without maxItems a prompt asking for "40 ideas" gets them; beyond this the fake stops.
const MAX_ITEMS = 50;

interface Ctx {
  writer: Writer;
  rng: Prng;
  facts: PromptFacts;
  countUsed: boolean; // the prompt's count applies to the outermost array only
}

function valueFor(s: ResponseSchema, name: string, c: Ctx): unknown {
  if (s.anyOf && s.anyOf.length > 0) return valueFor(s.anyOf[0]!, name, c);
  switch (s.type) {
    case 'OBJECT': {
      const props = s.properties ?? {};
      const order = [...(s.propertyOrdering ?? []), ...Object.keys(props).filter((k) => !(s.propertyOrdering ?? []).includes(k))];
      const required = new Set(s.required ?? []);
      const out: Record<string, unknown> = {};
      for (const key of order) {
        // Optional properties are usually, not always, there: clients must cope with both.
        if (!required.has(key) && !c.rng.chance(0.85)) continue;
        out[key] = valueFor(props[key]!, key, c);
      }
      return out;
    }
    case 'ARRAY': {
      const min = s.minItems ?? 1;
      const max = Math.max(min, s.maxItems ?? MAX_ITEMS);
      let n: number;
      if (!c.countUsed && c.facts.count !== undefined) n = c.facts.count;
      else n = c.rng.int(min, Math.min(max, min + 3));
      c.countUsed = true;
      n = Math.min(max, Math.max(min, n));
      return Array.from({ length: n }, () => valueFor(s.items!, name, c));
    }
    case 'STRING': {
      if (s.enum && s.enum.length > 0) return c.rng.pick(s.enum);
      let text = c.writer.stringFor(name, s);
      while (s.minLength !== undefined && text.length < s.minLength) text += ' ' + c.writer.sentence();
      if (s.maxLength !== undefined && text.length > s.maxLength) text = text.slice(0, s.maxLength);
      return text;
    }
    case 'INTEGER':
      return intFor(name, s, c.rng);
    case 'NUMBER':
      return numberFor(s, c.rng);
    case 'BOOLEAN':
      return c.rng.chance(0.5);
  }
}

export interface GenerationInput {
  model: string;
  prompt: string; // all user-visible text of the conversation
  system: string;
  schema?: ResponseSchema;
  mimeType?: string;
  candidate: number;
}

function seedOf(input: GenerationInput): number {
  return hashString(
    [input.model, input.system, input.prompt, JSON.stringify(input.schema ?? null), input.mimeType ?? '', String(input.candidate)].join(
      '\u0000',
    ),
  );
}

/** The candidate's full text, before any length limit. */
export function generateText(input: GenerationInput): string {
  const rng = new Prng(seedOf(input));
  const facts = readPrompt(input.prompt);
  const writer = new Writer(rng, facts);
  if (input.mimeType === 'text/x.enum' && input.schema?.enum) return rng.pick(input.schema.enum);
  if (input.schema) return JSON.stringify(valueFor(input.schema, 'response', { writer, rng, facts, countUsed: false }));
  if (input.mimeType === 'application/json') return JSON.stringify({ title: writer.title(), text: writer.description() });
  const items = Array.from(
    { length: Math.min(10, Math.max(1, facts.count ?? 3)) },
    (_, i) => `${i + 1}. **${writer.title()}**: ${writer.sentence()}`,
  );
  return `Here are some ideas about ${facts.subject}:\n\n${items.join('\n')}\n\n${writer.sentence()}`;
}

/** JSON that breaks the schema while parsing fine: required fields missing, types wrong. */
export function schemaMismatchText(input: GenerationInput): string {
  const s = input.schema;
  if (s?.type === 'ARRAY') return JSON.stringify({ unexpected: 'an object where an array belongs' });
  if (s?.type === 'OBJECT') {
    const out: Record<string, unknown> = {};
    for (const [k, sub] of Object.entries(s.properties ?? {})) out[k] = sub.type === 'STRING' ? 42 : 'not the right type';
    const required = s.required ?? Object.keys(s.properties ?? {});
    if (required.length > 0) delete out[required[0]!];
    return JSON.stringify(out);
  }
  return JSON.stringify(['not', 'what', 'was', 'asked']);
}

/** Text that is not JSON at all: chatty preamble plus a truncated object. */
export function malformedText(input: GenerationInput): string {
  const full = generateText(input);
  return `Sure! Here is the JSON you asked for:\n\`\`\`json\n${full.slice(0, Math.max(1, Math.floor(full.length * 0.6)))}`;
}
