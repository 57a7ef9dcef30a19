/**
 * Node 20 has no global `WebSocket`, and msw's WebSocket interception patches the global one
 * (TOOLCHAIN.md): import this module before msw, so `ws`'s class is there to be patched.
 */
import { WebSocket } from 'ws';

globalThis.WebSocket ??= WebSocket as unknown as typeof globalThis.WebSocket;
