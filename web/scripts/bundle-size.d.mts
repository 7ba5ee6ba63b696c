// Types of bundle-size.mjs for TypeScript callers (benchmarks).
export interface InitialJs {
  route: string;
  files: { file: string; raw: number; gzip: number }[];
  raw: number;
  gzip: number;
}

export function initialJs(routeId?: string): InitialJs;
