/**
 * Where an environment's log lives in Redis (research/scale-out.md section 5(A)): per (client,
 * environment) a hash `…:meta` (`epoch`, `seq`, `bytes`, `marker`), a stream `…:hist` whose entry
 * ids are the seqs (`<seq>-0`), and a pub/sub channel `…:live`. The `{client/environment}` hash
 * tag keeps the three on one Redis Cluster slot, so the scripts that touch them stay legal if
 * Redis is ever sharded. A prefix keeps test runs and separate clusters on one Redis apart.
 */
import { CHANNEL_NAME_PATTERN } from '../../protocol/index.js';

/** An environment as the engine names it: its client and its own name (`Environment` fits). */
export type EnvironmentRef = { readonly client: string; readonly name: string };

/** The Redis names of one environment's log. */
export type EnvironmentKeys = {
  /** `client/environment`: the environment's name inside the log. */
  readonly id: string;
  readonly meta: string;
  readonly hist: string;
  readonly live: string;
};

/**
 * The Redis names of an environment's log. Client and environment names follow the config's
 * pattern (letters, digits, `_ - . :`), so `/`, `{` and `}` cannot make two environments share a
 * key or break the hash tag; a name outside it is refused.
 */
export function environmentKeys(prefix: string, env: EnvironmentRef): EnvironmentKeys {
  for (const [what, name] of [
    ['client', env.client],
    ['environment', env.name],
  ] as const) {
    if (!CHANNEL_NAME_PATTERN.test(name)) {
      throw new TypeError(
        `${what} name "${name}" cannot name a log: use 1-128 letters, digits, "_", "-", "." or ":"`,
      );
    }
  }
  const id = `${env.client}/${env.name}`;
  const base = `${prefix}rt:{${id}}`;
  return { id, meta: `${base}:meta`, hist: `${base}:hist`, live: `${base}:live` };
}
