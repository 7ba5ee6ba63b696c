export declare const STAGES: { key: string; label: string; live?: boolean }[];
export declare function deploymentMessage(env: Record<string, string | undefined>): { ok: boolean; text: string };
export declare function postMessage(url: string, payload: { text: string }, fetchFn?: typeof fetch): Promise<void>;
