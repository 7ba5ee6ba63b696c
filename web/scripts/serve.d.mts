// Types of serve.mjs for TypeScript callers (the local stack and tests).
export interface WebConfig {
  supabaseUrl: string;
  supabaseAnonKey: string;
}

export interface ServeWebOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** The adapter-static output; web/build by default. */
  buildDir?: string;
  /** Served as /config.json. */
  config: WebConfig;
}

export interface ServedWeb {
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_BUILD_DIR: string;
export function serveWeb(options: ServeWebOptions): Promise<ServedWeb>;
