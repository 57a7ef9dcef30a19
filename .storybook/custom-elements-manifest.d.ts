// custom-elements.json is generated (`npm run manifest`), so a fresh checkout has none: this
// declaration types preview.ts's import of it until it exists (then the file's own type wins).
declare module '*/custom-elements.json' {
  const manifest: { schemaVersion: string; modules: unknown[] };
  export default manifest;
}
