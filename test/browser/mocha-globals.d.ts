/**
 * The mocha globals web-test-runner gives every browser test file (`describe`, `it`, hooks),
 * typed here because the project does not install `@types/mocha`. Only what the tests use.
 */

/** `this` inside a test or hook. */
interface MochaContext {
  /** Changes this test's or suite's timeout (the config's default is 10 s). */
  timeout(ms: number): void;
  slow(ms: number): void;
  retries(count: number): void;
  skip(): never;
}

type MochaFunction = (this: MochaContext) => void | PromiseLike<unknown>;

interface MochaSuiteFunction {
  (title: string, fn: (this: MochaContext) => void): void;
  only(title: string, fn: (this: MochaContext) => void): void;
  skip(title: string, fn: (this: MochaContext) => void): void;
}

interface MochaTestFunction {
  (title: string, fn?: MochaFunction): void;
  only(title: string, fn?: MochaFunction): void;
  skip(title: string, fn?: MochaFunction): void;
}

declare const describe: MochaSuiteFunction;
declare const it: MochaTestFunction;
declare function before(fn: MochaFunction): void;
declare function after(fn: MochaFunction): void;
declare function beforeEach(fn: MochaFunction): void;
declare function afterEach(fn: MochaFunction): void;
