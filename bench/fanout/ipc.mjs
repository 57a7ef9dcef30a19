/**
 * Request and answer over a child process's IPC channel: the parent sends `{ id, cmd, ... }`,
 * the child answers `{ id, result }` or `{ id, error }`.
 */

let nextId = 1;

/**
 * Sends a command to a child and resolves with its answer.
 * @param {import('node:child_process').ChildProcess} child
 * @param {Record<string, unknown> & { cmd: string }} message
 * @returns {Promise<any>}
 */
export function request(child, message) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (answer) => {
      if (answer?.id !== id) return;
      cleanup();
      if (answer.error) reject(new Error(`${message.cmd}: ${answer.error}`));
      else resolve(answer.result);
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`${message.cmd}: child exited (${signal ?? code}) before answering`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.send({ id, ...message });
  });
}

/**
 * Answers the parent's commands in a child process.
 * @param {Record<string, (message: any) => unknown>} handlers by command name
 */
export function serve(handlers) {
  process.on('message', async (message) => {
    const handler = handlers[message.cmd];
    try {
      if (!handler) throw new Error(`unknown command ${message.cmd}`);
      process.send({ id: message.id, result: (await handler(message)) ?? null });
    } catch (error) {
      process.send({ id: message.id, error: error instanceof Error ? error.stack : String(error) });
    }
  });
  // The parent gone: nothing left to answer.
  process.on('disconnect', () => process.exit(0));
}
