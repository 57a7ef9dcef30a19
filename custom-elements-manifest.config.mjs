// @custom-elements-manifest/analyzer config: `npm run manifest` (`cem analyze --litelement`) writes
// custom-elements.json from the class JSDoc of every element (`@summary`, `@slot`, `@csspart`,
// `@cssprop`, `@fires`, `@attr`); Storybook's docs pages and controls read it (.storybook/preview.ts),
// and scripts/element-docs.ts turns it into editor data and the README's element reference.

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
 * The analyzer also reads the `customElements.define(name, constructor)` inside `defineElement`
 * itself as the definition of an element named `name`: drop definitions whose class is declared
 * nowhere in the manifest, so tools that list the definitions see only the real elements.
 */
function realDefinitionsOnly() {
  return {
    name: 'catalyst: real definitions only',
    packageLinkPhase({ customElementsManifest }) {
      const modules = customElementsManifest.modules ?? [];
      const declared = new Set(
        modules.flatMap((module) => (module.declarations ?? []).map((d) => `${module.path}#${d.name}`)),
      );
      for (const module of modules) {
        module.exports = (module.exports ?? []).filter(
          (entry) =>
            entry.kind !== 'custom-element-definition' ||
            declared.has(`${entry.declaration.module ?? module.path}#${entry.declaration.name}`),
        );
      }
    },
  };
}

/**
 * An HTML attribute can take other values than its property: `operations="create, delete"` is a
 * list written as text, where the property's type is `string | readonly string[] | undefined`.
 * `@attr {type} name` in the class JSDoc gives the attribute its own type, whose string literals
 * become the values editors offer (scripts/element-docs.ts). The analyzer's Lit plugin would
 * overwrite that type with the property's and list the attribute first; this runs after it and
 * restores both the type and the source order.
 */
function attributeTypesFromClassDocs() {
  return {
    name: 'catalyst: attribute types from class JSDoc',
    analyzePhase({ ts, node, moduleDoc }) {
      if (!ts.isClassDeclaration(node) || !node.name) return;
      const declaration = moduleDoc.declarations?.find((d) => d.name === node.name.text);
      if (!declaration?.attributes) return;
      for (const tag of ts.getJSDocTags(node)) {
        if (tag.tagName.text !== 'attr' && tag.tagName.text !== 'attribute') continue;
        const typed = /^\{(.+)\}\s+([\w-]+)/s.exec(ts.getTextOfJSDocComment(tag.comment) ?? '');
        const attribute = typed && declaration.attributes.find((a) => a.name === typed[2]);
        if (attribute) attribute.type = { text: typed[1] };
      }
      const order = (attribute) => {
        const index = (declaration.members ?? []).findIndex((m) => m.name === attribute.fieldName);
        return index === -1 ? Number.MAX_SAFE_INTEGER : index;
      };
      declaration.attributes.sort((a, b) => order(a) - order(b));
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
  plugins: [defineElementCalls(), realDefinitionsOnly(), attributeTypesFromClassDocs(), publicMembersOnly()],
};
