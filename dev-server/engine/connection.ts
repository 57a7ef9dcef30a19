/**
 * One client connection (WebSocket or SSE): authentication, the message switch, subscriptions,
 * the batch queue, heartbeat, session expiry and every server-side close. All state changes of
 * a connection happen here; transports only pass frames in and out.
 */
import {
  CODE,
  PROTOCOL_BOUNDS,
  PROTOCOL_NAME,
  SERVER_BOUNDS,
  codeName,
  parseChannel,
  parseClientMessage,
  type ClientMessage,
  type CodeName,
  type ServerMessage,
  type SubscribedMessage,
  type SubscribeMessage,
  type SubscriptionSpec,
} from '../../protocol/index.js';
import { ApiError } from './api-error.js';
import { isoTime } from './clock.js';
import type { EngineCore, KeyRecord, Refusal } from './engine-core.js';
import type { Environment } from './environment.js';
import { LiveFilterBudget } from './filter-work.js';
import type { Flushable } from './flush-scheduler.js';
import { newConnectionId } from './ids.js';
import type { EngineSocket, FrameInfo, SocketHandle, Transport } from './socket.js';
import { checkStoredValue } from './stored-value.js';
import { compileSubscription } from './compile-subscription.js';
import { EventQueue } from './event-queue.js';
import { FrameBudget } from './frame-budget.js';
import { topLevelId } from './frame-id.js';
import { MessageTally } from './message-tally.js';
import { PendingBatch } from './pending-batch.js';
import { RequestError } from './request-error.js';
import type { SharedEvent } from './shared-event.js';
import { SubscribeJob, type SubscribeJobHost } from './subscribe-job.js';
import type { Subscription, SubscriptionOwner } from './subscription.js';

const CLOSE_REASONS: Partial<Record<CodeName, string>> = {
  token_expired: 'token expired',
  token_invalid: 'token invalid',
  quota_exceeded: 'too many connections for this client',
  slow_consumer: 'slow consumer: unsent data over maxBufferedBytes',
  heartbeat_timeout: 'no message from the client for 2 × heartbeatMs',
  going_away: 'server shutting down',
  policy_violation: 'too many bad frames',
  message_too_big: 'frame over maxMessageBytes',
  rate_limited: `frames kept coming over maxMessagesPerSecond: more than maxMessageBurst dropped within ${SERVER_BOUNDS.rateLimitWindowMs / 1000} s`,
};

const PING: FrameInfo = { type: 'ping' };

/** One connection's state machine. Create through the engine. */
export class Connection implements SubscriptionOwner, SubscribeJobHost, Flushable, SocketHandle {
  readonly connectionId = newConnectionId();
  private key: KeyRecord | undefined;
  private env: Environment | undefined;
  private readonly subs = new Map<string, Subscription>();
  private readonly queue = new EventQueue();
  private scheduled = false;
  flushGeneration = 0;
  /** `admitting`: the token is being spent in the cluster (frames wait, as during a subscribe job). */
  private state: 'authenticating' | 'admitting' | 'open' | 'closed' = 'authenticating';
  private lastSeen: number;
  private badFrames: number[] | undefined;
  private readonly frames: FrameBudget;
  /** The coalesced `message` audit; made when a frame is first counted for a listener. */
  private tally: MessageTally | undefined;
  /**
   * One timer per connection, armed for the earliest of its deadlines: the auth frame's while
   * authenticating; then the next ping, the session's end and (WebSocket) the silence limit.
   */
  private timer: unknown;
  private readonly onTimer = this.timerDue.bind(this);
  /** While authenticating, when the auth frame is due; once open, when the session ends. */
  private deadline = 0;
  private nextPing = 0;
  /** The subscribe being prepared (a long snapshot or replay); frames wait in `held` meanwhile. */
  private job: SubscribeJob | undefined;
  private held: ClientMessage[] | undefined;
  private releasing = false;
  private budget: LiveFilterBudget | undefined;

  constructor(
    private readonly core: EngineCore,
    private readonly socket: EngineSocket,
    readonly transport: Transport,
  ) {
    this.lastSeen = core.clock.now();
    this.frames = new FrameBudget(
      core.limits.maxMessagesPerSecond,
      core.limits.maxMessageBurst,
      this.lastSeen,
    );
  }

  /** Whether the connection has ended (its socket may still be closing). */
  get ended(): boolean {
    return this.state === 'closed';
  }

  /** The environment this connection belongs to, once authenticated. */
  get environment(): Environment | undefined {
    return this.env;
  }

  /** The client this connection belongs to, once authenticated. */
  get client(): string | undefined {
    return this.key?.client;
  }

  /** Starts a WebSocket connection: with the URL's token, or waiting for an `auth` frame. */
  startWebSocket(token: string | undefined): void {
    if (token !== undefined) {
      this.authenticate(token);
      return;
    }
    this.deadline = this.core.clock.now() + PROTOCOL_BOUNDS.authTimeoutMs;
    this.armTimer();
  }

  /** Starts an SSE connection whose token and quota were already checked. */
  startSse(key: KeyRecord, subscriptions: readonly SubscriptionSpec[]): void {
    this.admit(key);
    for (const spec of subscriptions) this.handle({ type: 'subscribe', ...spec });
  }

  // ---- frames in -----------------------------------------------------------------------------

  /** A text frame from the client. */
  receive(text: string): void {
    if (this.state === 'closed') return;
    const now = this.core.clock.now();
    this.lastSeen = now;
    // First, before anything reads the frame: past the limit a frame costs next to nothing.
    if (!this.frames.take(now, text.length)) {
      this.rateLimited(text, now);
      return;
    }
    if (byteLengthOver(text, this.core.limits.maxMessageBytes)) {
      this.close('message_too_big');
      return;
    }
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      if (this.state === 'authenticating') {
        this.refuse('token_invalid', 'the first frame must be a valid auth message');
        return;
      }
      this.badFrame(parsed.error, parsed.issues, parsed.id);
      return;
    }
    const message = parsed.message;
    if (this.state === 'authenticating') {
      if (message.type !== 'auth') this.refuse('token_invalid', 'the first frame must be auth');
      else this.authenticate(message.token);
      return;
    }
    if (this.state === 'admitting') {
      this.hold(message);
      return;
    }
    this.countMessage(message.type, now);
    this.handle(message);
  }

  /** The transport refused a frame over `maxMessageBytes` before reading it. */
  frameTooBig(): void {
    this.close('message_too_big');
  }

  /**
   * The transport saw the socket close (client went away, or after our own close). Only now
   * does the connection stop counting toward its client's quota: a socket the server closed
   * still holds its buffers until it is gone.
   */
  closed(code?: number): void {
    if (this.state !== 'closed') this.teardown({ by: 'client', code });
    this.core.closed(this);
  }

  private handle(message: ClientMessage): void {
    if (this.job !== undefined) {
      this.hold(message);
      return;
    }
    try {
      switch (message.type) {
        case 'auth':
          throw new RequestError('bad_request', 'this connection is already authenticated');
        case 'subscribe':
          this.subscribe(message);
          return;
        case 'unsubscribe': {
          const sub = this.subs.get(message.id);
          if (sub) this.drop(sub);
          this.send({ type: 'unsubscribed', id: message.id });
          if (sub) this.audit('unsubscribe', { id: message.id, channel: sub.spec.channel });
          return;
        }
        case 'publish':
          this.publish(message.channel, message.data, message.id);
          return;
        case 'ping':
          this.send(message.t === undefined ? { type: 'pong' } : { type: 'pong', t: message.t });
          return;
        case 'pong':
          return;
      }
    } catch (error) {
      const id = 'id' in message ? message.id : undefined;
      if (error instanceof RequestError) this.sendError(error.code, error.message, id, error.details);
      else if (error instanceof ApiError) {
        this.sendError(codeName(error.protocolCode) ?? 'bad_request', error.message, id, error.details);
      } else {
        // A bug must not take the server down with it: log it and close this connection only.
        console.error('dev server: request failed', message.type, error);
        this.close('internal_error', 'the server failed on this request');
      }
    }
  }

  // ---- requests ------------------------------------------------------------------------------

  private subscribe(message: SubscribeMessage): void {
    const env = this.env as Environment;
    const key = this.key as KeyRecord;
    const { type: _type, ...spec } = message;
    if (!this.subs.has(spec.id) && this.subs.size >= this.core.limits.maxSubscriptions) {
      throw new RequestError(
        'quota_exceeded',
        `at most ${this.core.limits.maxSubscriptions} subscriptions per connection; unsubscribe one first`,
      );
    }
    // Presence quotas before compiling, and without an exception (its stack trace was a fifth
    // of the cost): in a storm of joins, most are refused.
    const target = parseChannel(spec.channel);
    const refusal =
      'error' in target || target.kind !== 'presence'
        ? undefined
        : this.presenceRefusal(target.name, this.subs.get(spec.id));
    if (refusal !== undefined) {
      this.sendError('quota_exceeded', refusal, spec.id);
      return;
    }
    const sub = compileSubscription(spec, key, env, this);
    const channel = sub.channel;

    const old = this.subs.get(spec.id);
    if (old) this.drop(old); // atomic replace: nothing of the old one follows the new `subscribed`
    // Audited before going live: a hook that writes is then covered by the snapshot or replay, not sent twice.
    this.audit('subscribe', { id: spec.id, channel: spec.channel });
    if (this.state !== 'open') return; // a hook closed the connection
    if (channel.kind === 'presence') {
      this.subs.set(spec.id, sub);
      env.attach(sub);
      // The join is committed at the room's next flush: every later commit of the room, applied
      // to `members`, makes the room (presence-room.ts). `seq` is the environment's, so each of
      // them has a larger one.
      const members = env.join(channel.name, sub);
      const seq = env.seq;
      // Membership is state, not a stream: `since` never resumes it, and the answer says so.
      this.send(
        spec.since === undefined
          ? { type: 'subscribed', id: spec.id, seq, members }
          : { type: 'subscribed', id: spec.id, seq, members, resumed: false },
      );
      return;
    }
    // A snapshot to match or history to replay: prepared in slices when long (subscribe-job.ts),
    // the connection's later frames waiting in order; most finish in this turn.
    this.job = new SubscribeJob(this, sub, env, {
      maxFilterWork: this.core.limits.maxFilterWork,
      maxSnapshotChars: this.core.limits.maxBufferedBytes / 2, // leave room: the snapshot must not trip 4009
    });
    this.job.start(this.core.work);
  }

  /** The subscribe job is done: answer, replay, and put the subscription live in this turn. */
  goLive(sub: Subscription, answer: SubscribedMessage, replay: readonly SharedEvent[]): void {
    this.job = undefined;
    const env = this.env as Environment;
    this.subs.set(sub.id, sub);
    env.attach(sub);
    this.send(answer);
    this.writeReplay(replay); // at once, ahead of anything newer for it
    if (answer.resumed)
      this.audit('session.resumed', { id: sub.id, channel: sub.spec.channel, since: answer.seq });
    this.releaseHeld();
  }

  /** The subscribe job refused: the subscription does not go live. */
  refuseSubscribe(sub: Subscription, name: CodeName, message: string): void {
    this.job = undefined;
    this.sendError(name, message, sub.id);
    this.releaseHeld();
  }

  /** The subscribe job failed on a server bug: like a request that failed, this connection closes. */
  jobFailed(error: unknown): void {
    this.job = undefined;
    console.error('dev server: preparing a subscription failed', error);
    this.close('internal_error', 'the server failed on this request');
  }

  /** Keeps a frame that arrived while a subscription is prepared; too many are dropped with 4029. */
  private hold(message: ClientMessage): void {
    this.held ??= [];
    if (this.held.length < SERVER_BOUNDS.maxFramesWaiting) {
      this.held.push(message);
      return;
    }
    this.sendError(
      'rate_limited',
      `at most ${SERVER_BOUNDS.maxFramesWaiting} frames wait while a subscription is prepared; this one was dropped`,
      'id' in message ? message.id : undefined,
    );
  }

  /** Answers the frames that waited, in order, until one of them starts another long job. */
  private releaseHeld(): void {
    if (this.releasing) return;
    this.releasing = true;
    try {
      while (this.job === undefined && this.state === 'open' && this.held?.length) {
        this.handle(this.held.shift() as ClientMessage);
      }
    } finally {
      this.releasing = false;
    }
  }

  /**
   * Answers a live subscription again, as if the client had subscribed anew with the same spec
   * (no `since`): a new `subscribed`, with a fresh snapshot when it asks for one. Waits behind a
   * subscription being prepared, like a frame.
   */
  resync(sub: Subscription): void {
    if (this.subs.get(sub.id) !== sub || this.state !== 'open') return;
    const { since: _since, epoch: _epoch, ...spec } = sub.spec;
    this.handle({ type: 'subscribe', ...spec });
  }

  /** Ends a live subscription whose where passed a work limit in the fan-out (filter-work.ts). */
  endSubscription(sub: Subscription, message: string): void {
    if (this.subs.get(sub.id) !== sub) return;
    this.drop(sub);
    this.sendError('bad_request', message, sub.id);
  }

  /** The live budget of this connection's wheres; made on first use (most connections filter little). */
  get filterBudget(): LiveFilterBudget {
    const { clock, limits } = this.core;
    return (this.budget ??= new LiveFilterBudget(clock, limits.maxFilterWork, limits.maxFilterWorkPerSecond));
  }

  private publish(channelName: string, data: unknown, id: string | undefined): void {
    if (this.key?.role !== 'secret') throw new RequestError('scope_denied', 'only secret keys may publish');
    const channel = parseChannel(channelName);
    if ('error' in channel) throw new RequestError('channel_unavailable', channel.error);
    if (channel.kind !== 'events' || channel.wildcard) {
      throw new RequestError('channel_unavailable', 'publish to events:<topic>');
    }
    checkStoredValue(data, 'data');
    const env = this.env as Environment;
    const published = (seq: number) =>
      this.send(
        id === undefined
          ? { type: 'published', channel: channelName, seq }
          : { type: 'published', id, channel: channelName, seq },
      );
    if (!env.sequencer) {
      published(env.publish(channel.name, data));
      return;
    }
    // In a cluster the seq comes from its log: answered once the event is back here.
    env.append({ kind: 'event', topic: channel.name, data }).then(
      (commit) => published(commit.seq),
      (error: unknown) => {
        if (error instanceof ApiError)
          this.sendError('internal_error', `${error.message}; publish again`, id);
        else console.error('dev server: a publish was not committed', error);
      },
    );
  }

  /**
   * Why a presence subscription would pass `maxPresencePerConnection` or `maxRoomMembers` (a
   * 4008), or undefined; `replacing`, the live subscription of the same id, counts as gone.
   */
  private presenceRefusal(room: string, replacing: Subscription | undefined): string | undefined {
    const max = this.core.limits.maxPresencePerConnection;
    let held = 0;
    for (const sub of this.subs.values()) if (sub.channel.kind === 'presence' && sub !== replacing) held++;
    if (held >= max) {
      return `at most ${max} presence subscriptions per connection (maxPresencePerConnection); unsubscribe one first`;
    }
    return (this.env as Environment).joinRefusal(room, replacing);
  }

  /** Ends a subscription: out of the index, out of its room, its queued events dropped. */
  private drop(sub: Subscription): void {
    const env = this.env as Environment;
    this.subs.delete(sub.id);
    env.detach(sub);
    if (sub.channel.kind === 'presence') env.leave(sub.channel.name, sub);
    this.queue.dropOf(sub.id);
  }

  // ---- events out ----------------------------------------------------------------------------

  /** Queues an event of one of this connection's subscriptions (called by the fan-out). */
  enqueue(event: SharedEvent): void {
    if (this.state !== 'open') return;
    this.queue.push(event);
    if (this.queue.length >= this.core.limits.maxBatchEvents) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      this.core.scheduler.schedule(this);
    }
  }

  /** The batch deadline passed. */
  flushDue(): void {
    this.flush();
  }

  /** Sends everything queued as one batch (the queue never holds more than `maxBatchEvents`). */
  flush(): void {
    this.scheduled = false;
    this.flushGeneration++;
    const batch = this.queue.take();
    if (batch !== undefined && this.state === 'open') this.writeBatch(batch);
  }

  /** Sends a resumed subscription's missed events as batches of at most `maxBatchEvents`. */
  private writeReplay(events: readonly SharedEvent[]): void {
    const max = this.core.limits.maxBatchEvents;
    let batch: PendingBatch | undefined;
    for (const event of events) {
      batch = new PendingBatch(event, batch);
      if (batch.size === max) {
        this.writeBatch(batch);
        batch = undefined;
      }
    }
    if (batch !== undefined) this.writeBatch(batch);
  }

  /** Sends one batch: as its shared UTF-8 bytes when the transport takes them. */
  private writeBatch(batch: PendingBatch): void {
    if (this.state === 'closed') return;
    if (this.socket.sendUtf8) this.socket.sendUtf8(batch.utf8(), batch.info);
    else this.socket.send(batch.text(), batch.info);
    this.checkBuffered();
  }

  private send(message: ServerMessage): void {
    this.write(JSON.stringify(message), {
      type: message.type,
      seq: 'seq' in message ? message.seq : undefined,
    });
  }

  private sendError(name: CodeName, message: string, id: string | undefined, details?: unknown): void {
    const error: Extract<ServerMessage, { type: 'error' }> = {
      type: 'error',
      code: CODE[name],
      name,
      message,
    };
    if (id !== undefined) error.id = id;
    if (details !== undefined) error.details = details;
    this.send(error);
  }

  private write(frame: string, info: FrameInfo): void {
    if (this.state === 'closed') return;
    this.socket.send(frame, info);
    this.checkBuffered();
  }

  /** Closes with 4009 once the socket holds more unsent bytes than `maxBufferedBytes`. */
  private checkBuffered(): void {
    if (this.socket.bufferedAmount > this.core.limits.maxBufferedBytes) this.close('slow_consumer');
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  private authenticate(token: string): void {
    const result = this.core.admit(token);
    if (result instanceof Promise) {
      this.state = 'admitting';
      result.then(
        (admitted) => {
          if (this.state === 'admitting') this.admitted(admitted);
          else if ('key' in admitted && !('refused' in admitted)) this.core.releaseAdmission(admitted.key);
        },
        (error: unknown) => {
          if (this.state !== 'admitting') return;
          this.close('going_away', `cannot admit the connection now: ${(error as Error).message}`);
        },
      );
      return;
    }
    this.admitted(result);
  }

  private admitted(result: { key: KeyRecord } | Refusal): void {
    if ('refused' in result) {
      this.key = result.key; // names the client in the audit, when the token did
      this.refuse(result.refused, result.message);
      return;
    }
    this.admit(result.key);
    this.releaseHeld(); // frames that came while the cluster admitted it
  }

  private admit(key: KeyRecord): void {
    const { clock, limits } = this.core;
    this.key = key;
    this.env = this.core.environment(key.client, key.environment);
    this.state = 'open';
    this.core.opened(this);
    const now = clock.now();
    this.audit('auth.granted', { role: key.role, transport: this.transport });
    this.audit('connect', { transport: this.transport });
    this.send({
      type: 'welcome',
      protocol: PROTOCOL_NAME,
      connectionId: this.connectionId,
      client: key.client,
      environment: key.environment,
      epoch: this.env.epoch,
      seq: this.env.seq,
      heartbeatMs: limits.heartbeatMs,
      sessionExpiresAt: isoTime(now + limits.sessionTtlMs),
      limits: {
        maxSubscriptions: limits.maxSubscriptions,
        maxBatchEvents: limits.maxBatchEvents,
        flushIntervalMs: limits.flushIntervalMs,
        maxMessageBytes: limits.maxMessageBytes,
      },
    });
    this.deadline = now + limits.sessionTtlMs;
    this.nextPing = now + limits.heartbeatMs;
    this.armTimer();
  }

  // ---- timer ---------------------------------------------------------------------------------

  /** Arms the timer for the earliest deadline. A message in between only moves the silence limit later. */
  private armTimer(): void {
    if (this.state === 'closed') return;
    const { clock, limits } = this.core;
    let due = this.deadline;
    if (this.state === 'open') {
      due = Math.min(due, this.nextPing);
      if (this.transport === 'websocket') due = Math.min(due, this.lastSeen + 2 * limits.heartbeatMs);
      const tallied = this.tally?.startedAt;
      if (tallied !== undefined) due = Math.min(due, tallied + SERVER_BOUNDS.messageAuditIntervalMs);
    }
    if (this.timer !== undefined) clock.clearTimeout(this.timer);
    this.timer = clock.setTimeout(this.onTimer, Math.max(0, due - clock.now()));
  }

  /** Acts on the deadline that has passed, then waits for the next one (none once closed). */
  private timerDue(): void {
    this.timer = undefined;
    const { clock, limits } = this.core;
    const now = clock.now();
    if (this.state === 'authenticating') {
      if (now >= this.deadline) this.refuse('token_invalid', 'no auth frame within 5 s');
    } else if (this.state === 'open') {
      const tallied = this.tally?.startedAt;
      if (tallied !== undefined && now >= tallied + SERVER_BOUNDS.messageAuditIntervalMs)
        this.auditMessages();
      if (now >= this.deadline) this.close('token_expired', 'session reached sessionTtlMs');
      else if (this.transport === 'websocket' && now - this.lastSeen >= 2 * limits.heartbeatMs) {
        this.close('heartbeat_timeout'); // silent for 2 × heartbeatMs
      } else if (now >= this.nextPing) {
        this.write(`{"type":"ping","t":${now}}`, PING);
        this.nextPing = now + limits.heartbeatMs;
      }
    }
    this.armTimer();
  }

  private badFrame(error: string, issues: unknown, id: string | undefined): void {
    const now = this.core.clock.now();
    this.badFrames = (this.badFrames ?? []).filter((t) => now - t < 60_000);
    this.badFrames.push(now);
    if (this.badFrames.length > PROTOCOL_BOUNDS.maxBadFramesPerMinute) {
      this.close('policy_violation');
      return;
    }
    this.sendError('bad_request', error, id, Array.isArray(issues) && issues.length ? issues : undefined);
  }

  /**
   * A frame past `maxMessagesPerSecond` and its burst: dropped unread and answered with 4029
   * (with the frame's `id` when `topLevelId` can tell it); a connection that keeps on is closed.
   */
  private rateLimited(text: string, now: number): void {
    this.countMessage(undefined, now);
    if (this.frames.dropped(now)) {
      this.close('rate_limited');
      return;
    }
    const { maxMessagesPerSecond, maxMessageBurst } = this.core.limits;
    this.sendError(
      'rate_limited',
      `frame dropped: over maxMessagesPerSecond (${maxMessagesPerSecond} a second, bursts of maxMessageBurst ${maxMessageBurst}; a frame counts once per started KiB); slow down`,
      topLevelId(text),
    );
  }

  /** Counts a frame for the coalesced `message` audit (nothing when no one listens). */
  private countMessage(type: ClientMessage['type'] | undefined, now: number): void {
    if (this.state !== 'open' || !this.core.audit.wants('message')) return;
    if ((this.tally ??= new MessageTally()).count(type, now)) this.armTimer(); // the interval's end is a deadline now
  }

  /** Emits the `message` record of the interval so far, if anything was counted. */
  private auditMessages(): void {
    const details = this.tally?.take();
    if (details) this.audit('message', details);
  }

  /** Refuses authentication: closes with the code, auditing `auth.denied`. */
  private refuse(name: CodeName, reason: string): void {
    this.audit('auth.denied', { reason: name, message: reason });
    // Section 8 lists the quota among the server's closes: a refused 101st connection is both.
    if (name === 'quota_exceeded') this.audit('session.suspended', { code: CODE[name], reason: name });
    this.socket.close(CODE[name], reason);
    this.teardown({ by: 'server', code: CODE[name] });
  }

  /** Closes the connection from the server side with a protocol code. */
  close(name: CodeName, reason = CLOSE_REASONS[name] ?? name): void {
    if (this.state === 'closed') return;
    if (this.state === 'authenticating') {
      this.refuse(name, reason);
      return;
    }
    if (name === 'going_away') this.flush();
    if (name !== 'going_away') this.audit('session.suspended', { code: CODE[name], reason: name });
    this.socket.close(CODE[name], reason);
    this.teardown({ by: 'server', code: CODE[name] });
  }

  private teardown(how: { by: 'client' | 'server'; code?: number | undefined }): void {
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.job?.cancel();
    this.job = undefined;
    this.held = undefined;
    if (this.timer !== undefined) this.core.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (wasOpen) {
      for (const sub of [...this.subs.values()]) this.drop(sub);
      this.auditMessages();
      this.audit('disconnect', { by: how.by, code: how.code });
    }
    this.queue.take();
  }

  private audit(type: Parameters<EngineCore['audit']['emit']>[0], details: Record<string, unknown>): void {
    if (!this.core.audit.wants(type)) return;
    this.core.audit.emit(
      type,
      { connectionId: this.connectionId, client: this.key?.client, environment: this.key?.environment },
      details,
    );
  }
}

const utf8 = new TextEncoder();

function byteLengthOver(text: string, max: number): boolean {
  if (text.length > max) return true; // UTF-8 never takes fewer bytes than UTF-16 code units
  if (text.length * 3 <= max) return false;
  return utf8.encode(text).length > max;
}
