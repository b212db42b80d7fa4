// An HTTP client for one repository of an OCI distribution (Docker registry v2) registry:
// manifests and blobs, with the registry's authentication flows (anonymous, Basic, and the
// Bearer token challenge of distribution's token spec).
//
// Transport rules (Docker's, for `insecure-registries`):
// - A registry is spoken to over HTTPS with verified certificates, and nothing else, unless it
//   is listed in `insecureRegistries` (`host`, `host:port` or a CIDR for IP addresses) or is a
//   loopback host (localhost, 127.0.0.1, ::1).
// - A listed registry gets HTTPS without certificate checks; if it does not speak TLS at all
//   (the HTTPS probe of /v2/ fails to connect or to handshake), plain HTTP. A loopback one gets
//   the same fallback, but its certificate is verified: traffic that never leaves the host may
//   be plain, a certificate that does not verify is still refused unless the host is listed.
//   The scheme is decided once per client, by that probe, not per request.
// - Unverified TLS is for listed hosts only, chosen per request URL: a redirect to a CDN, or a
//   token server, that is not listed gets its certificate verified.
// - A mirror (`endpoint`) is spoken to with the scheme its URL names.
// - Redirects (blob downloads are commonly redirected to a CDN) are followed by hand, at most
//   5: the Authorization header goes to the registry's own origin only, never to the origin
//   a redirect points at; a redirect from HTTPS to plain HTTP is refused unless the target
//   host is insecure as above. An upload location the registry names obeys the same rules.
// - Only a 401 from the registry's own origin is a challenge to answer: one from a redirect
//   target or an upload location elsewhere is an error, so no credentials go to its realm.
// - Every error is an ImageError with a one-line message.
import { Agent } from "undici";
import { DEFAULT_CONFIG_PATH, matchesInsecure, splitHost } from "../../config/runtime-config.js";
import { ImageError, messageOf } from "../errors.js";
import { DEFAULT_REGISTRY } from "../reference.js";

export interface Credentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** registry host[:port] as in a reference ("docker.io" for Docker Hub) */
  registry: string;
  /** repository path inside the registry, e.g. "library/busybox"; "" for the API root (login) */
  repository: string;
  /** base URL to speak to instead of the registry's own (a mirror), e.g. http://127.0.0.1:5001 */
  endpoint?: string;
  credentials?: Credentials;
  /** hosts (`host`, `host:port` or CIDR) spoken to over unverified TLS, or plain HTTP */
  insecureRegistries?: readonly string[];
  /** aborts every request in flight */
  signal?: AbortSignal;
  /** the fetch to use (tests); defaults to the global one */
  fetch?: typeof fetch;
}

export interface BlobResponse {
  /** the body, as Buffers */
  body: AsyncIterable<Buffer>;
  /** Content-Length when the server gave one */
  length: number | undefined;
}

const MAX_REDIRECTS = 5;
const MAX_ERROR_BODY = 64 * 1024;
const MAX_TOKEN_BODY = 1024 * 1024;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** The host Docker Hub's API lives on. */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";

/** Whether `hostPort` may be spoken to over plain HTTP (see the file comment). */
export function isInsecureRegistry(hostPort: string, insecure: readonly string[] = []): boolean {
  const { host } = splitHost(hostPort.toLowerCase());
  return LOOPBACK.has(host) || matchesInsecure(hostPort, insecure);
}

/**
 * The base URL a registry's API is tried at first, e.g. `https://registry-1.docker.io`: always
 * HTTPS; the client falls back to plain HTTP where the file comment allows it.
 */
export function registryBaseUrl(registry: string): string {
  return `https://${registry === DEFAULT_REGISTRY ? DOCKER_HUB_API_HOST : registry}`;
}

/**
 * Node's error codes for a certificate that does not verify (OpenSSL's X509_V_ERR_* names and
 * the host name check): the server does speak TLS. Hand-listed: Node exports no such list.
 */
const CERTIFICATE_ERRORS = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** The certificate failure in a fetch error (its cause chain), if that is what it is. */
function certificateError(err: unknown): { code: string; message: string } | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && CERTIFICATE_ERRORS.has(code)) return { code, message: e.message };
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** HTTPS without certificate checks, for listed hosts; one for all clients (keep-alive). */
let unverifiedAgent: Agent | undefined;

/** The file an `insecure-registries` entry goes in, for error messages. */
function configFile(): string {
  return process.env.CORRAL_CONFIG || DEFAULT_CONFIG_PATH;
}

/** The registry refused the credentials (or wants some): login maps this to its own line. */
export class UnauthorizedError extends ImageError {
  constructor(message: string) {
    // The name stays "ImageError": callers match on that; `instanceof` tells this one apart.
    super("refused", message);
  }
}

/** What a request sends besides its path: method, headers and a body made afresh per try. */
interface Send {
  method?: string;
  headers?: Record<string, string>;
  /** called for each attempt (a 401 retry sends the body again) */
  body?: () => Buffer | AsyncIterable<Uint8Array>;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate header into its challenges, e.g.
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const re =
    /\s*([A-Za-z][\w-]*)(?:\s+|$)((?:\s*,?\s*[\w-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^\s,]*))*)/y;
  let pos = 0;
  while (pos < header.length) {
    re.lastIndex = pos;
    const m = re.exec(header);
    if (m === null || m[0] === "") break;
    pos = re.lastIndex;
    const params: Record<string, string> = {};
    const paramRe = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
    for (const p of (m[2] ?? "").matchAll(paramRe)) {
      const key = (p[1] ?? "").toLowerCase();
      params[key] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
    }
    challenges.push({ scheme: (m[1] ?? "").toLowerCase(), params });
    while (pos < header.length && /[\s,]/.test(header[pos] ?? "")) pos++;
  }
  return challenges;
}

/** Control characters (C0 and DEL): a registry's text must not carry them to a terminal. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x1f\x7f]+/g;

/** A registry's message, made safe to show on one line. */
function oneLine(text: string, max = 300): string {
  const flat = text.replace(CONTROL, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

/** Reads a body up to `max` bytes; refuses (or truncates, for error bodies) beyond. */
export async function readCapped(
  response: Response,
  max: number,
  what: string,
  truncate = false,
): Promise<Buffer> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (!truncate && Number.isFinite(declared) && declared > max) {
    await response.body?.cancel().catch(() => undefined);
    throw new ImageError("refused", `${what} is ${declared} bytes, more than the limit of ${max}`);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  if (response.body === null) return Buffer.alloc(0);
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.byteLength;
      if (length > max) {
        if (truncate) break;
        throw new ImageError("refused", `${what} is larger than the limit of ${max} bytes`);
      }
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks);
}

/** The first error of a registry's `{"errors":[{"code","message"}]}` body, if any. */
function registryError(body: Buffer): { code: string; message: string } | undefined {
  try {
    const parsed = JSON.parse(body.toString()) as {
      errors?: Array<{ code?: unknown; message?: unknown }>;
    };
    const first = parsed.errors?.[0];
    if (first === undefined) return undefined;
    return {
      code: typeof first.code === "string" ? first.code : "",
      message: typeof first.message === "string" ? first.message : "",
    };
  } catch {
    return undefined;
  }
}

export class RegistryClient {
  readonly registry: string;
  readonly repository: string;
  /** where the API is spoken to: `https://host` until the probe fell back to `http://host` */
  private base: string;
  private origin: string;
  /** the probe of /v2/ deciding between HTTPS and plain HTTP, once */
  private deciding: Promise<void> | undefined;
  private readonly mayFallBack: boolean;
  private readonly credentials: Credentials | undefined;
  /** hosts that may be spoken to over plain HTTP (listed ones, a plain HTTP mirror's) */
  private readonly insecure: readonly string[];
  /** hosts listed in the configuration: TLS to those is not verified */
  private readonly listed: readonly string[];
  private readonly signal: AbortSignal | undefined;
  private readonly fetchFn: typeof fetch;
  /** the Authorization header value that last worked (or the first to try) */
  private authorization: string | undefined;
  /** one token request at a time: concurrent 401s share its result */
  private authorizing: Promise<void> | undefined;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.repository = options.repository;
    const endpoint = options.endpoint?.replace(/\/+$/, "");
    this.listed = options.insecureRegistries ?? [];
    this.insecure = this.listed;
    this.base = endpoint ?? registryBaseUrl(options.registry);
    this.origin = new URL(this.base).origin;
    this.mayFallBack =
      endpoint === undefined && isInsecureRegistry(new URL(this.base).host, this.listed);
    // A mirror configured as http:// was chosen as plain HTTP by its URL: its own redirects and
    // token server on that host may be too.
    if (endpoint?.startsWith("http:")) this.insecure = [...this.insecure, new URL(endpoint).host];
    this.credentials = options.credentials;
    this.signal = options.signal;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** The base URL of the registry's API, e.g. `https://registry-1.docker.io`. */
  get baseUrl(): string {
    return this.base;
  }

  /** GET /v2/<repo>/manifests/<reference>, capped at `maxBytes`. */
  async getManifest(
    reference: string,
    accept: readonly string[],
    maxBytes: number,
  ): Promise<{ bytes: Buffer; mediaType: string; digestHeader: string | undefined }> {
    const what = `manifest for ${this.registry}/${this.repository}${reference.startsWith("sha256:") ? "@" : ":"}${reference}`;
    const response = await this.request(`/v2/${this.repository}/manifests/${reference}`, what, {
      headers: { accept: accept.join(", ") },
    });
    const bytes = await readCapped(response, maxBytes, what);
    const mediaType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    return {
      bytes,
      mediaType,
      digestHeader: response.headers.get("docker-content-digest") ?? undefined,
    };
  }

  /** GET /v2/<repo>/blobs/<digest>; the caller verifies what it reads. */
  async getBlob(digest: string): Promise<BlobResponse> {
    const what = `blob ${digest} of ${this.registry}/${this.repository}`;
    const response = await this.request(`/v2/${this.repository}/blobs/${digest}`, what, {
      headers: { "accept-encoding": "identity" },
    });
    const declared = Number(response.headers.get("content-length") ?? NaN);
    const body = response.body;
    async function* chunks(): AsyncGenerator<Buffer> {
      if (body === null) return;
      const reader = body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
    }
    return { body: chunks(), length: Number.isFinite(declared) ? declared : undefined };
  }

  /** GET /v2/ with the credentials: resolves when the registry lets them in (`login`). */
  async ping(): Promise<void> {
    const response = await this.request("/v2/", `the API of ${this.registry}`, {});
    await response.body?.cancel().catch(() => undefined);
  }

  /** HEAD /v2/<repo>/blobs/<digest>: whether the registry has the blob already. */
  async hasBlob(digest: string): Promise<boolean> {
    const what = `blob ${digest} of ${this.registry}/${this.repository}`;
    try {
      const response = await this.request(`/v2/${this.repository}/blobs/${digest}`, what, {
        method: "HEAD",
      });
      await response.body?.cancel().catch(() => undefined);
      return true;
    } catch (err) {
      if (err instanceof ImageError && err.code === "not-found") return false;
      throw err;
    }
  }

  /**
   * Uploads a blob in one PUT (POST to start the upload, then PUT with ?digest=); the registry
   * checks the digest. `body` is called again if the upload has to be retried after a 401.
   */
  async uploadBlob(
    digest: string,
    size: number,
    body: () => AsyncIterable<Uint8Array>,
  ): Promise<void> {
    const what = `upload of blob ${digest} to ${this.registry}/${this.repository}`;
    const started = await this.request(`/v2/${this.repository}/blobs/uploads/`, what, {
      method: "POST",
      headers: { "content-length": "0" },
    });
    await started.body?.cancel().catch(() => undefined);
    const location = started.headers.get("location");
    if (location === null) {
      throw new ImageError(
        "refused",
        `registry ${this.registry} started an upload without a location`,
      );
    }
    const target = new URL(location, this.base);
    // The registry names where the layer goes: the same rules as for a redirect (no HTTPS to
    // plain HTTP unless insecure); `follow` sends Authorization to the registry's origin only.
    this.checkTarget(new URL(this.base), target, "gave an upload location on");
    target.searchParams.set("digest", digest);
    const put = await this.request(target.href, what, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "content-length": String(size) },
      body,
    });
    await put.body?.cancel().catch(() => undefined);
  }

  /** PUT /v2/<repo>/manifests/<reference>; returns the digest the registry reports. */
  async putManifest(
    reference: string,
    mediaType: string,
    bytes: Buffer,
  ): Promise<string | undefined> {
    const what = `manifest ${this.registry}/${this.repository}:${reference}`;
    const response = await this.request(`/v2/${this.repository}/manifests/${reference}`, what, {
      method: "PUT",
      headers: { "content-type": mediaType },
      body: () => bytes,
    });
    await response.body?.cancel().catch(() => undefined);
    return response.headers.get("docker-content-digest") ?? undefined;
  }

  /**
   * A request to the registry (`path` relative to its base, or an absolute URL on it):
   * authenticates on 401, follows redirects, maps errors.
   */
  private async request(path: string, what: string, send: Send): Promise<Response> {
    if (this.mayFallBack) await (this.deciding ??= this.decideScheme());
    const url = /^https?:\/\//.test(path) ? path : `${this.base}${path}`;
    let { response, final } = await this.follow(url, send);
    if (response.status === 401) {
      await response.body?.cancel().catch(() => undefined);
      this.refuseForeign401(url, final, what);
      const challenge = response.headers.get("www-authenticate") ?? "";
      const tried = this.authorization;
      await this.authenticate(challenge, tried);
      ({ response, final } = await this.follow(url, send));
      if (response.status === 401) {
        await response.body?.cancel().catch(() => undefined);
        this.refuseForeign401(url, final, what);
        throw this.unauthorized();
      }
    }
    if (response.ok) return response;
    const body = await readCapped(response, MAX_ERROR_BODY, what, true).catch(() =>
      Buffer.alloc(0),
    );
    const err = registryError(body);
    const detail = err ? oneLine(err.message || err.code.toLowerCase()) : `HTTP ${response.status}`;
    if (response.status === 404) {
      throw new ImageError("not-found", `${what} not found: ${detail}`);
    }
    if (response.status === 403) {
      const action = send.method === undefined || send.method === "GET" ? "pull" : "push";
      throw new ImageError(
        "refused",
        `${action} access denied for ${this.registry}/${this.repository}: ${detail}`,
      );
    }
    throw new ImageError(
      "refused",
      `registry ${this.registry} answered HTTP ${response.status} for ${what}: ${detail}`,
    );
  }

  /**
   * A 401 is a challenge to answer only when the registry's own origin sent it: one from a
   * host a redirect or an upload location led to (a CDN) would have us send the credentials
   * to whatever token realm that host names.
   */
  private refuseForeign401(start: string, final: URL, what: string): void {
    if (final.origin === this.origin) return;
    const role = final.href === new URL(start).href ? "upload location" : "redirect target";
    throw new ImageError(
      "refused",
      `${final.host} (${role}) answered 401 for ${what}; credentials are sent to ${this.registry} only`,
    );
  }

  private unauthorized(): UnauthorizedError {
    if (this.credentials !== undefined) {
      return new UnauthorizedError(
        `unauthorized: authentication to ${this.registry} failed: wrong username or password`,
      );
    }
    const name = this.repository === "" ? this.registry : `${this.registry}/${this.repository}`;
    return new UnauthorizedError(
      `unauthorized: ${name} requires authentication (corral-rt login ${this.registry}) or does not exist`,
    );
  }

  /** Sets `authorization` from a 401's challenge; `tried` is what the failed request sent. */
  private async authenticate(header: string, tried: string | undefined): Promise<void> {
    // Another request may have fetched a fresh token meanwhile.
    if (this.authorization !== tried && this.authorization !== undefined) return;
    this.authorizing ??= this.obtain(header, tried).finally(() => {
      this.authorizing = undefined;
    });
    await this.authorizing;
  }

  private async obtain(header: string, tried: string | undefined): Promise<void> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === "bearer");
    if (bearer !== undefined) {
      this.authorization = `Bearer ${await this.fetchToken(bearer.params)}`;
      return;
    }
    if (challenges.some((c) => c.scheme === "basic") && this.credentials !== undefined) {
      const basic = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString("base64")}`;
      if (tried === basic) throw this.unauthorized();
      this.authorization = basic;
      return;
    }
    throw this.unauthorized();
  }

  private async fetchToken(params: Record<string, string>): Promise<string> {
    const realm = params["realm"];
    let url: URL;
    try {
      url = new URL(realm ?? "");
    } catch {
      throw new ImageError(
        "refused",
        `registry ${this.registry} sent a Bearer challenge without a valid realm`,
      );
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && this.isInsecureHost(url))) {
      throw new ImageError(
        "refused",
        `registry ${this.registry} points to token server ${url.origin}, which is not HTTPS`,
      );
    }
    if (params["service"]) url.searchParams.set("service", params["service"]);
    // Login asks for a token with no scope, as `docker login` does.
    const scope = params["scope"] || (this.repository && `repository:${this.repository}:pull`);
    if (scope) url.searchParams.set("scope", scope);
    const headers: Record<string, string> = {};
    if (this.credentials !== undefined) {
      url.searchParams.set("account", this.credentials.username);
      headers["authorization"] =
        `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString("base64")}`;
    }
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        headers,
        redirect: "follow",
        signal: this.signal,
        ...this.tls(url),
      });
    } catch (err) {
      throw this.unreachable(url, err);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => undefined);
      throw this.unauthorized();
    }
    const body = await readCapped(response, MAX_TOKEN_BODY, "token response");
    if (!response.ok) {
      throw new ImageError(
        "refused",
        `token server ${url.origin} answered HTTP ${response.status}: ${oneLine(body.toString(), 200)}`,
      );
    }
    let token: unknown;
    try {
      const parsed = JSON.parse(body.toString()) as { token?: unknown; access_token?: unknown };
      token = parsed.token ?? parsed.access_token;
    } catch {
      token = undefined;
    }
    if (
      typeof token !== "string" ||
      token === "" ||
      /\s/.test(token) ||
      token.replace(CONTROL, "") !== token
    ) {
      throw new ImageError("refused", `token server ${url.origin} sent no usable token`);
    }
    return token;
  }

  /**
   * Probes GET /v2/ over HTTPS: any HTTP answer (401 included) settles on HTTPS; a failure to
   * connect or to handshake means the registry does not speak TLS, so plain HTTP (as Docker).
   * A certificate that does not verify is an error, never a reason to go plain.
   */
  private async decideScheme(): Promise<void> {
    const url = new URL(`${this.base}/v2/`);
    try {
      const response = await this.fetchFn(url, {
        redirect: "manual",
        signal: this.signal,
        ...this.tls(url),
      });
      await response.body?.cancel().catch(() => undefined);
    } catch (err) {
      if (this.signal?.aborted || certificateError(err) !== undefined) {
        throw this.unreachable(url, err);
      }
      this.base = `http://${url.host}`;
      this.origin = this.base;
    }
  }

  /** The dispatcher for `url`: TLS without certificate checks for listed hosts only. */
  private tls(url: URL): { dispatcher?: Agent } {
    if (url.protocol !== "https:" || !matchesInsecure(url.host, this.listed)) return {};
    unverifiedAgent ??= new Agent({ connect: { rejectUnauthorized: false } });
    return { dispatcher: unverifiedAgent };
  }

  private isInsecureHost(url: URL): boolean {
    return isInsecureRegistry(url.host, this.insecure);
  }

  private unreachable(url: URL, err: unknown): ImageError {
    if (this.signal?.aborted) return new ImageError("refused", "pull cancelled");
    const certificate = certificateError(err);
    if (certificate !== undefined) {
      return new ImageError(
        "refused",
        `x509/TLS error from ${url.origin}: ${oneLine(certificate.message, 200)} (${certificate.code}): ` +
          `add ${url.host} to insecure-registries in ${configFile()} if you trust it`,
      );
    }
    const cause = (err as { cause?: unknown }).cause;
    const detail = oneLine(messageOf(cause ?? err), 200);
    const hint =
      url.host === DOCKER_HUB_API_HOST
        ? `check this host's network and DNS, or set registry-mirrors in ${configFile()} to a mirror it can reach`
        : "check this host's network and DNS, and the registry's address";
    return new ImageError("refused", `cannot reach ${url.origin}: ${detail}: ${hint}`);
  }

  /**
   * Refuses a URL the server at `from` sends us to (`how`: "redirected to", ...) that is not
   * HTTP(S), or that is plain HTTP to a host that is not insecure.
   */
  private checkTarget(from: URL, next: URL, how: string): void {
    if (next.protocol !== "https:" && next.protocol !== "http:") {
      throw new ImageError("refused", `${from.origin} ${how} a non-HTTP URL`);
    }
    if (next.protocol === "http:" && !this.isInsecureHost(next)) {
      throw new ImageError(
        "refused",
        `${from.origin} ${how} plain HTTP (${next.origin}), which is allowed only for insecure registries`,
      );
    }
  }

  /**
   * Fetches, following redirects by hand so credentials stay with the registry's origin.
   * Returns the response and the URL that answered it.
   */
  private async follow(start: string, send: Send): Promise<{ response: Response; final: URL }> {
    let url = new URL(start);
    for (let hop = 0; ; hop++) {
      const sent: Record<string, string> = { ...send.headers };
      if (url.origin === this.origin && this.authorization !== undefined) {
        sent["authorization"] = this.authorization;
      }
      let response: Response;
      try {
        const body = send.body?.();
        response = await this.fetchFn(url, {
          method: send.method ?? "GET",
          headers: sent,
          // A streamed request body needs half duplex in Node's fetch (undici).
          ...(body === undefined
            ? {}
            : { body: body as NonNullable<RequestInit["body"]>, duplex: "half" }),
          redirect: "manual",
          signal: this.signal,
          ...this.tls(url),
        });
      } catch (err) {
        throw this.unreachable(url, err);
      }
      if (![301, 302, 303, 307, 308].includes(response.status)) return { response, final: url };
      await response.body?.cancel().catch(() => undefined);
      const location = response.headers.get("location");
      if (location === null) {
        throw new ImageError("refused", `${url.origin} sent a redirect without a location`);
      }
      if (hop >= MAX_REDIRECTS) {
        throw new ImageError("refused", `too many redirects fetching from ${this.registry}`);
      }
      const next = new URL(location, url);
      this.checkTarget(url, next, "redirected to");
      url = next;
    }
  }
}

/**
 * An AbortController that also aborts when `parent` does (a pull or push aborts its own
 * requests on a failure, and all of them when its caller aborts); `unlink()` when done.
 */
export function linkedAbort(parent?: AbortSignal): { abort: AbortController; unlink(): void } {
  const abort = new AbortController();
  const onAbort = (): void => abort.abort();
  parent?.addEventListener("abort", onAbort, { once: true });
  if (parent?.aborted) abort.abort();
  return { abort, unlink: () => parent?.removeEventListener("abort", onAbort) };
}
