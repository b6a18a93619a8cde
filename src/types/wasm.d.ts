// A `.wasm` file imported by the Workers bundle: wrangler hands it over compiled
// (its default CompiledWasm rule), as a WebAssembly.Module.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
