#!/usr/bin/env node
// Entry point: load the compiled CLI. Kept tiny so `lode --version` starts fast.
// On Node >= 22.1, V8's compile cache keeps lode's compiled modules between
// runs (in os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE; off with
// NODE_DISABLE_COMPILE_CACHE=1). Node 20 has none: nothing is loaded for it.
if (Number(process.versions.node.split('.')[0]) >= 22) {
  const { enableCompileCache } = await import('node:module');
  enableCompileCache?.();
}
const { main } = await import('../dist/cli/main.js');
main(process.argv).then((code) => { process.exitCode = code; });
