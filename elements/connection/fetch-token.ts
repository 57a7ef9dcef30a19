/** `GET /api/users/ws-auth/`: the one-time token fetched before every (re)connect. */
import type { WsAuthResponse } from '../../protocol/http.js';
import { PATHS } from '../../protocol/paths.js';
import { checkErrorBody, checkWsAuthResponse } from '../../protocol/read-server-message.js';
import type { LiveError } from './connection-status.js';

/**
 * Fetches a token for `apiKey`. Rejects with a `LiveError`: `network` when the server cannot
 * be reached, the HTTP status and the server's message when it refuses (401/403 mean the key
 * is refused: retrying would not help), `bad_response` when the answer is not a token.
 */
export async function fetchToken(
  fetcher: typeof fetch,
  url: string,
  apiKey: string,
): Promise<WsAuthResponse> {
  let response: Response;
  try {
    response = await fetcher(`${url}${PATHS.wsAuth}`, { headers: { authorization: `Bearer ${apiKey}` } });
  } catch (error) {
    throw {
      name: 'network',
      message: `cannot reach ${url}: ${(error as Error).message}`,
    } satisfies LiveError;
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const refusal = checkErrorBody(body);
    throw {
      code: response.status,
      name: response.status === 401 ? 'unauthorized' : 'http_error',
      message: refusal ? refusal.error.message : `ws-auth answered HTTP ${response.status}`,
    } satisfies LiveError;
  }
  const token = checkWsAuthResponse(body);
  if (!token) {
    throw {
      name: 'bad_response',
      message: `${url}${PATHS.wsAuth} did not answer with a token`,
    } satisfies LiveError;
  }
  return token;
}
