// `npm pack` / `npm publish` of a source folder would ship TypeScript that only runs inside this
// repository. The installable packages are built by `npm run pack` (packages/sdk/scripts/pack.ts).
console.error('Refusing to pack the source folder: it holds TypeScript that needs this repository.\n' +
  'Build the installable SDK and CLI tarballs with: npm run pack   (from the repository root; see docs/ci.md)')
process.exit(1)
