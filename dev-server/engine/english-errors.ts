/**
 * zod/mini ships no error messages ("Invalid input" for everything) to stay small in browsers.
 * The server side loads the English ones, so a client or config author reads *why* their input
 * was refused. Import for its side effect.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';

z.config(en());
