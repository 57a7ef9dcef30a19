// @custom-elements-manifest/analyzer config: `npm run manifest` (`cem analyze --litelement`) writes
// custom-elements.json from the class JSDoc of every element (`@summary`, `@slot`, `@csspart`,
// `@cssprop`, `@fires`); Storybook's docs pages and controls read it (.storybook/preview.ts).

/**
 * The elements register through `defineElement('live-x', LiveXElement)` (define-once), a call the
 * analyzer does not know: record each as the custom-element definition it is, so the manifest has
 * the tag names.
 */
function defineElementCalls() {
  return {
    name: 'catalyst: defineElement calls',
    analyzePhase({ ts, node, moduleDoc }) {
      if (!ts.isCallExpression(node) || !ts.isIdentifier(node.expression)) return;
      if (node.expression.text !== 'defineElement') return;
      const [tag, klass] = node.arguments;
      if (!tag || !klass || !ts.isStringLiteral(tag) || !ts.isIdentifier(klass)) return;
      moduleDoc.exports = [
        ...(moduleDoc.exports ?? []),
        {
          kind: 'custom-element-definition',
          name: tag.text,
          declaration: { name: klass.text, module: moduleDoc.path },
        },
      ];
    },
  };
}

/**
 * Private and protected members are not the public API: without this they would show in the docs
 * tables and become Storybook controls.
 */
function publicMembersOnly() {
  return {
    name: 'catalyst: public members only',
    packageLinkPhase({ customElementsManifest }) {
      for (const module of customElementsManifest.modules ?? []) {
        for (const declaration of module.declarations ?? []) {
          if (!declaration.members) continue;
          declaration.members = declaration.members.filter(
            (member) => member.privacy !== 'private' && member.privacy !== 'protected',
          );
        }
      }
    },
  };
}

export default {
  globs: ['elements/**/*.ts'],
  litelement: true,
  // The manifest is generated (and git-ignored): no `customElements` field written into package.json.
  packagejson: false,
  plugins: [defineElementCalls(), publicMembersOnly()],
};
