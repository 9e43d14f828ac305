/**
 * The admin API (/_emu) as typed calls: the clock, faults, the request journal, resets,
 * recording, fixtures and Theo account controls. An answer that is not 2xx throws a
 * TheazoEmuError carrying the server's own message.
 */
import { TheazoEmuError } from "./server";

export interface Clock {
  now: string;
  epochMs: number;
  frozen: boolean;
  [field: string]: unknown;
}

export interface Advanced {
  clock: Clock;
  fired: Array<Record<string, unknown>>;
  firedCount: number;
  [field: string]: unknown;
}

/** A fault rule, as POST /_emu/faults takes it: which requests, what happens, how often. */
export interface FaultRule {
  /** Which requests: a method, a path glob (`*` within a segment, `**` across) or `^regex`, a key. */
  match?: { method?: string; path?: string; key?: string };
  fault: FaultKind;
  /** For `latency`: how long, in ms (or a duration such as "1.5s"). */
  latencyMs?: number | string;
  /** For `stream_cut`: how many events go out before the cut. */
  afterEvents?: number;
  retryAfter?: number;
  /** At most this many times; then the rule stays, spent. */
  times?: number;
  probability?: number;
  message?: string;
}

export interface JournalFilters {
  key?: string;
  kind?: string;
  method?: string;
  path?: string;
  status?: number;
  limit?: number;
  [field: string]: string | number | undefined;
}

export interface JournalEntry {
  seq: number;
  kind: string;
  at: string;
  method?: string;
  path?: string;
  status?: number;
  [field: string]: unknown;
}

export interface RecordStatus {
  mode: "off" | "recording" | "replaying";
  file?: string | null;
  [field: string]: unknown;
}

export class Admin {
  constructor(readonly url: string) {}

  private async call<T>(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<T> {
    const target = new URL(`${this.url}${path}`);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) target.searchParams.set(name, String(value));
    }
    let response: Response;
    try {
      response = await fetch(target, {
        method,
        headers: body === undefined ? undefined : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new TheazoEmuError(`No emulator answers at ${this.url} (${(error as Error).message}): is it running? ` +
        "Start it with the kit's globalSetup, or set THEAZO_EMU_URL to a running `theazo-emu serve`.");
    }
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = data?.error ?? {};
      throw new TheazoEmuError(`${method} ${path} answered ${response.status}: ${error.message ?? text}`,
        response.status, error.code);
    }
    return data as T;
  }

  health(): Promise<Record<string, unknown>> {
    return this.call("GET", "/_emu/health");
  }

  /** The virtual clock. */
  readonly clock = {
    get: (): Promise<Clock> => this.call("GET", "/_emu/clock"),
    /** Move the clock forward by `seconds`, firing everything due on the way. */
    advance: (seconds: number): Promise<Advanced> => this.call("POST", "/_emu/clock/advance", { seconds }),
    /** Move the clock forward to an instant (ISO); a past instant is refused. */
    set: (instant: string | Date): Promise<Advanced> =>
      this.call("POST", "/_emu/clock/advance", { to: instant instanceof Date ? instant.toISOString() : instant }),
    freeze: (): Promise<Clock> => this.call("POST", "/_emu/clock/freeze"),
    resume: (): Promise<Clock> => this.call("POST", "/_emu/clock/resume"),
    /** Advance until no agent run is in flight (one key's, or anyone's). */
    settle: (key?: string): Promise<Record<string, unknown>> =>
      this.call("POST", "/_emu/settle", key ? { key } : {}),
  };

  /** Injected failures: tried before the fixtures' rules. */
  readonly faults = {
    add: (rule: FaultRule): Promise<Record<string, unknown>> => this.call("POST", "/_emu/faults", rule),
    list: async (): Promise<Array<Record<string, unknown>>> =>
      (await this.call<{ data: Array<Record<string, unknown>> }>("GET", "/_emu/faults")).data,
    remove: (id: string): Promise<unknown> => this.call("DELETE", `/_emu/faults/${encodeURIComponent(id)}`),
    clear: (): Promise<unknown> => this.call("DELETE", "/_emu/faults"),
  };

  /** The request journal, newest last; `key` narrows it to one tenant. */
  async requests(filters: JournalFilters = {}): Promise<JournalEntry[]> {
    return (await this.call<{ data: JournalEntry[] }>("GET", "/_emu/requests", undefined, filters)).data;
  }

  clearRequests(key?: string): Promise<unknown> {
    return this.call("DELETE", "/_emu/requests", undefined, { key });
  }

  /** Forget one tenant's state (its key), or every tenant's. */
  reset(key?: string): Promise<Record<string, unknown>> {
    return this.call("POST", "/_emu/reset", key ? { tenant: key } : {});
  }

  readonly record = {
    start: (file: string, upstream?: string): Promise<RecordStatus> =>
      this.call("POST", "/_emu/record", upstream ? { file, upstream } : { file }),
    stop: (): Promise<RecordStatus> => this.call("DELETE", "/_emu/record"),
    status: (): Promise<RecordStatus> => this.call("GET", "/_emu/record"),
  };

  readonly fixtures = {
    /** Put a fixture document in force (for `key` only, when given). */
    add: (document: Record<string, unknown>, key?: string): Promise<Record<string, unknown>> =>
      this.call("POST", "/_emu/fixtures", key ? { ...document, key } : document),
    clear: (key?: string): Promise<unknown> => this.call("DELETE", "/_emu/fixtures", undefined, { key }),
  };

  /** A Theo key's credits, rate limit, scopes and allowed origins. */
  readonly theoAccount = {
    get: (key: string): Promise<Record<string, unknown>> =>
      this.call("GET", "/_emu/theo/account", undefined, { key }),
    set: (key: string, settings: Record<string, unknown>): Promise<Record<string, unknown>> =>
      this.call("PUT", "/_emu/theo/account", { key, ...settings }),
  };
}

export type FaultKind = "provider_error" | "timeout" | "rate_limited" | "internal_error" | "latency" | "stream_cut";
