// Reads a response body of any size with constant memory: counts its bytes, keeps its head, parses
// it when it is small JSON, and for large JSON checks that it is one well-formed value (brackets
// balanced outside strings, nothing after the end), so a streamed export that breaks off or
// interleaves is caught without holding gigabytes in the benchmark.
const PARSE_BELOW = 32 * 1024 * 1024;

export interface Body {
  bytes: number;
  head: string;
  /** The last 4 KB: where a large export part says what comes next. */
  tail: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function readBody(res: Response): Promise<Body> {
  const type = res.headers.get('content-type') ?? '';
  const isJson = type.includes('application/json');
  const checker = new JsonBalance();
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let bytes = 0;
  let last = new Uint8Array(0);
  for await (const chunk of res.body ?? []) {
    bytes += chunk.length;
    last = Buffer.concat([last, chunk]).subarray(-4096);
    if (isJson) checker.feed(chunk);
    if (keptBytes < PARSE_BELOW) {
      kept.push(chunk);
      keptBytes += chunk.length;
    }
  }
  const text = bytes <= PARSE_BELOW ? new TextDecoder().decode(Buffer.concat(kept)) : '';
  const head = new TextDecoder().decode(Buffer.concat(kept).subarray(0, 64 * 1024));
  if (isJson) {
    const problem = checker.end();
    if (problem) throw new Error(`malformed JSON body of ${bytes} bytes: ${problem}`);
  }
  return { bytes, head, tail: new TextDecoder().decode(last), json: isJson && text ? JSON.parse(text) : null };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

class JsonBalance {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private closedAt = -1;
  private seen = 0;
  private problem: string | null = null;

  feed(chunk: Uint8Array) {
    for (let i = 0; i < chunk.length && !this.problem; i++) this.byte(chunk[i]);
    this.seen += chunk.length;
  }

  private byte(b: number) {
    if (!this.inString && this.closedAt >= 0 && b > 0x20) {
      this.problem = 'text after the end of the value';
      return;
    }
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (b === BACKSLASH) this.escaped = true;
      else if (b === QUOTE) this.inString = false;
      return;
    }
    if (b === QUOTE) this.inString = true;
    else if (b === 0x7b || b === 0x5b) this.depth++;
    else if (b === 0x7d || b === 0x5d) {
      this.depth--;
      if (this.depth < 0) this.problem = 'closes more than it opens';
      if (this.depth === 0) this.closedAt = this.seen;
    }
  }

  end(): string | null {
    if (this.problem) return this.problem;
    if (this.inString) return 'ends inside a string';
    if (this.depth !== 0) return `ends ${this.depth} level(s) deep`;
    return null;
  }
}
